// Package rest provides named outgoing REST connections.
package rest
