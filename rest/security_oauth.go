package rest

import (
	"fmt"
	"io"
	"net/http"

	"github.com/tokenwire/tokenwire/oauthclient"
)

// OAuth authenticates with src's access tokens (client credentials), which
// the source caches and renews. On a 401 the oauthclient transport drops
// the token, fetches a fresh one and resends once; that resend is not
// counted as a retry of the connection's policy.
func OAuth(src *oauthclient.Source) Security { return oauthSecurity{src} }

type oauthSecurity struct{ src *oauthclient.Source }

func (s oauthSecurity) String() string { return "oauth2(" + s.src.Name() + ")" }

func (s oauthSecurity) RoundTripper(base http.RoundTripper, to string) (http.RoundTripper, error) {
	if _, err := parseOrigin(to); err != nil {
		return nil, err
	}
	return oauthclient.NewTransport(s.src, base, to)
}

// certBound reports whether the definition authenticates with a client
// certificate, to which its tokens are then bound (RFC 8705).
func (s oauthSecurity) certBound() bool {
	m := s.src.Status().AuthMethod
	return m == oauthclient.AuthTLSClientAuth || m == oauthclient.AuthSelfSignedTLS
}

// Format prints only the kind and the definition, whatever the verb.
func (s oauthSecurity) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }
