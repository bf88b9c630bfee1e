package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHelpExitsCleanly(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		var out bytes.Buffer
		require.NoError(t, run(context.Background(), []string{arg}, &out), arg)
		assert.Contains(t, out.String(), "-config")
	}
}

func TestArgumentErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-bogus"}, "-bogus"},
		{[]string{"-config", "does-not-exist.yaml", "C001", "-bogus"}, "-bogus"},
		{[]string{"-config", "does-not-exist.yaml", "C001", "-serve"}, "-serve"},
		{[]string{"C001"}, "-config"},
	} {
		err := run(context.Background(), tt.args, &bytes.Buffer{})
		assert.ErrorContains(t, err, tt.want, "%q", tt.args)
	}
}

// TestRunConfigured runs the -config path against the fakes, through a
// configuration file generated from the embedded one.
func TestRunConfigured(t *testing.T) {
	f, err := startFakes(time.Now)
	require.NoError(t, err)
	t.Cleanup(f.Close)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "ehr-key.pem")
	require.NoError(t, os.WriteFile(keyFile, []byte(f.ehr.keyPEM), 0o600))
	cfg := regexp.MustCompile(`\$\{(\w+)\}`).ReplaceAllStringFunc(string(defaultConfig), func(ref string) string {
		name := ref[2 : len(ref)-1]
		if name == "EHR_PRIVATE_KEY" {
			return "file:" + keyFile
		}
		v, ok := f.env(name)
		require.True(t, ok, name)
		return v
	})
	file := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(file, []byte(cfg), 0o600))

	var out bytes.Buffer
	err = run(context.Background(), []string{"-config", file, "-insecure-http", "C001", "C007"}, &out)
	require.NoError(t, err)
	assert.Contains(t, out.String(), "C001  Ada Lovelace")
	assert.Contains(t, out.String(), "EHR Patient/p-1007 Margaret Hamilton")

	out.Reset()
	err = run(context.Background(), []string{"-config", file, "C002", "-insecure-http", "C003"}, &out)
	require.NoError(t, err, "flags may follow the ids")
	assert.Contains(t, out.String(), "Alan Turing")
	assert.Contains(t, out.String(), "Grace Hopper")
	for _, secret := range []string{clientSecret, billingAPIKey, "PRIVATE KEY"} {
		assert.NotContains(t, out.String(), secret)
	}

	err = run(context.Background(), []string{"-config", file, "C001"}, &bytes.Buffer{})
	assert.ErrorContains(t, err, "https required", "plain http needs -insecure-http")
}
