// A real, OpenID-certified authorization server (panva/oidc-provider) on
// loopback, for tokenwire's interop tests. It writes its URL and the
// private keys of its JWT clients to the directory $OIDC_OUT.
//
// Mutual TLS (RFC 8705): at startup openssl makes a CA, a server
// certificate for 127.0.0.1 and three client certificates (mtls.mjs); a
// second, https listener asks every client for its certificate (node's
// requestCert) and serves the same provider, whose discovery document
// names it in mtls_endpoint_aliases. Clients mtls-pki (tls_client_auth,
// by subject DN, issued by the CA) and mtls-self
// (self_signed_tls_client_auth, registered by its x5c) get
// certificate-bound access tokens (cnf.x5t#S256); stranger.crt is known to
// no client.
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTLSServer } from 'node:https';
import { join } from 'node:path';
import Provider from 'oidc-provider';
import { makeCertificates } from './mtls.mjs';

const out = process.env.OIDC_OUT;
const secret = 'sec: +/%&=?#ret-0123456789-abcdefghij';
const pair = (type, opts) => {
  const { privateKey, publicKey } = generateKeyPairSync(type, opts);
  return { pem: privateKey.export({ type: 'pkcs8', format: 'pem' }), jwk: publicKey.export({ format: 'jwk' }) };
};
const rsa = pair('rsa', { modulusLength: 2048 });
const ec = pair('ec', { namedCurve: 'P-384' });
writeFileSync(join(out, 'rs384.pem'), rsa.pem);
writeFileSync(join(out, 'es384.pem'), ec.pem);
writeFileSync(join(out, 'secret'), secret);

const certs = makeCertificates(out);
const selfSigned = new X509Certificate(certs.self);

const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
const cc = { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'api:read', id_token_signed_response_alg: 'ES256' };
const clients = [
  { ...cc, client_id: 'basic', client_secret: secret, token_endpoint_auth_method: 'client_secret_basic' },
  { ...cc, client_id: 'post', client_secret: secret, token_endpoint_auth_method: 'client_secret_post' },
  { ...cc, client_id: 'dpop-nonce', client_secret: secret, token_endpoint_auth_method: 'client_secret_basic' },
  { ...cc, client_id: 'secret-jwt', client_secret: secret, token_endpoint_auth_method: 'client_secret_jwt', token_endpoint_auth_signing_alg: 'HS256' },
  { ...cc, client_id: 'jwt-rs384', token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'RS384', jwks: { keys: [{ ...rsa.jwk, kid: 'rs', use: 'sig' }] } },
  { ...cc, client_id: 'jwt-es384', token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES384', jwks: { keys: [{ ...ec.jwk, kid: 'ec', use: 'sig' }] } },
  { ...cc, client_id: 'mtls-pki', token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'CN=tokenwire-pki-client', tls_client_certificate_bound_access_tokens: true },
  { ...cc, client_id: 'mtls-self', token_endpoint_auth_method: 'self_signed_tls_client_auth', tls_client_certificate_bound_access_tokens: true,
    jwks: { keys: [{ ...selfSigned.publicKey.export({ format: 'jwk' }), x5c: [selfSigned.raw.toString('base64')] }] } },
];

// The client certificate of the request's TLS connection (the https
// listener's), as oidc-provider's mTLS feature asks for it.
const peer = (ctx) => {
  const socket = ctx.req.socket;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const c = socket.getPeerCertificate();
  return c && c.raw ? new X509Certificate(c.raw) : undefined;
};

const config = (mtlsURL) => ({
  clients,
  discovery: { mtls_endpoint_aliases: { token_endpoint: mtlsURL + '/token', introspection_endpoint: mtlsURL + '/token/introspection' } },
  jwks: { keys: [{ ...signing, kid: 'at', use: 'sig', alg: 'ES256' }] },
  scopes: ['api:read'],
  clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_jwt', 'client_secret_post', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'],
  ttl: { ClientCredentials: 5 },
  enabledJWA: {
    dPoPSigningAlgValues: ['ES256', 'ES384', 'PS256', 'RS256'],
    clientAuthSigningAlgValues: ['HS256', 'RS384', 'ES384'],
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async () => true },
    mTLS: {
      enabled: true,
      certificateBoundAccessTokens: true,
      tlsClientAuth: true,
      selfSignedTlsClientAuth: true,
      getCertificate: peer,
      certificateAuthorized: (ctx) => ctx.req.socket.authorized === true, // chained to the CA (node checked it)
      certificateSubjectMatches: (ctx, property, expected) => property === 'tls_client_auth_subject_dn' && peer(ctx)?.subject === expected,
    },
    dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: (ctx) => ctx.oidc?.client?.clientId === 'dpop-nonce' },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => ({
        scope: 'api:read', audience: resource, accessTokenTTL: 5, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
});

// Listen first, on ports the kernel picks, then serve the provider whose
// issuer is that very address: no port can be taken in between.
const server = createServer();
const tlsServer = createTLSServer({ key: certs.serverKey, cert: certs.server, ca: [certs.ca], requestCert: true, rejectUnauthorized: false });
const listening = (s) => new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
await Promise.all([listening(server), listening(tlsServer)]);
const url = 'http://127.0.0.1:' + server.address().port;
const mtlsURL = 'https://127.0.0.1:' + tlsServer.address().port;
const provider = new Provider(url, config(mtlsURL));
provider.proxy = false;
server.on('request', provider.callback());
tlsServer.on('request', provider.callback());
writeFileSync(join(out, 'mtls_url'), mtlsURL);
writeFileSync(join(out, 'url'), url); // last: its presence says the server is up
console.log('oidc-provider at', url, 'and', mtlsURL);
