// The certificates of the interop server's mutual TLS (RFC 8705), made by
// openssl at startup and written to the output directory: ca.pem (it
// issued the server's certificate for 127.0.0.1 and pki.crt), pki.crt and
// pki.key (tls_client_auth, CN=tokenwire-pki-client), self.crt and
// self.key (self_signed_tls_client_auth), stranger.crt and stranger.key
// (self-signed, registered nowhere). P-256 keys, valid two days. The CA is
// also written to trust/ca.pem: .ci/setup adds that directory to
// SSL_CERT_DIR, so that a client on the system roots (oauthclient.NewClient)
// trusts a resource server serving server.crt.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const openssl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export function makeCertificates(out) {
  const p = (name) => join(out, name);
  // The CA, and what it issues: the server's certificate and pki.crt.
  openssl('req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=tokenwire-interop-ca',
    '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign');
  const issue = (name, subj, ext) => {
    writeFileSync(p(name + '.ext'), ext + '\n');
    openssl('req', ...ec, '-keyout', p(name + '.key'), '-out', p(name + '.csr'), '-subj', subj);
    openssl('x509', '-req', '-in', p(name + '.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-set_serial', String(Date.now()),
      '-days', '2', '-extfile', p(name + '.ext'), '-out', p(name + '.crt'));
  };
  issue('server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth');
  issue('pki', '/CN=tokenwire-pki-client', 'extendedKeyUsage=clientAuth');
  // Self-signed client certificates.
  for (const name of ['self', 'stranger']) {
    openssl('req', '-x509', ...ec, '-keyout', p(name + '.key'), '-out', p(name + '.crt'), '-days', '2', '-subj', '/CN=tokenwire-' + name,
      '-addext', 'extendedKeyUsage=clientAuth');
  }
  const read = (name) => readFileSync(p(name), 'utf8');
  mkdirSync(p('trust'), { recursive: true });
  writeFileSync(join(out, 'trust', 'ca.pem'), read('ca.pem'));
  return { ca: read('ca.pem'), server: read('server.crt'), serverKey: read('server.key'), self: read('self.crt') };
}
