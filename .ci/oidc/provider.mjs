// A real, OpenID-certified authorization server (panva/oidc-provider) on
// loopback, for tokenwire's interop tests. It writes its URL and the
// private keys of its JWT clients to the directory $OIDC_OUT.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import Provider from 'oidc-provider';

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

const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
const cc = { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'api:read', id_token_signed_response_alg: 'ES256' };
const clients = [
  { ...cc, client_id: 'basic', client_secret: secret, token_endpoint_auth_method: 'client_secret_basic' },
  { ...cc, client_id: 'post', client_secret: secret, token_endpoint_auth_method: 'client_secret_post' },
  { ...cc, client_id: 'dpop-nonce', client_secret: secret, token_endpoint_auth_method: 'client_secret_basic' },
  { ...cc, client_id: 'secret-jwt', client_secret: secret, token_endpoint_auth_method: 'client_secret_jwt', token_endpoint_auth_signing_alg: 'HS256' },
  { ...cc, client_id: 'jwt-rs384', token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'RS384', jwks: { keys: [{ ...rsa.jwk, kid: 'rs', use: 'sig' }] } },
  { ...cc, client_id: 'jwt-es384', token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES384', jwks: { keys: [{ ...ec.jwk, kid: 'ec', use: 'sig' }] } },
];

const config = {
  clients,
  jwks: { keys: [{ ...signing, kid: 'at', use: 'sig', alg: 'ES256' }] },
  scopes: ['api:read'],
  ttl: { ClientCredentials: 5 },
  enabledJWA: {
    dPoPSigningAlgValues: ['ES256', 'ES384', 'PS256', 'RS256'],
    clientAuthSigningAlgValues: ['HS256', 'RS384', 'ES384'],
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async () => true },
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
};

// Listen first, on a port the kernel picks, then serve the provider whose
// issuer is that very address: no port can be taken in between.
const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const url = 'http://127.0.0.1:' + server.address().port;
  const provider = new Provider(url, config);
  provider.proxy = false;
  server.on('request', provider.callback());
  writeFileSync(join(out, 'url'), url);
  console.log('oidc-provider at', url);
});
