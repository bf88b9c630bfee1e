// Bearer tokens as a FHIR resource server checks them, when server.mjs is
// started with FHIR_OIDC_DIR (the directory the oidc-provider of
// .ci/oidc writes its URL to): a JWT access token that provider signed
// (its JWKS, found through its OpenID configuration), issued by it, for
// this server (aud: the FHIR base URL, an RFC 8707 resource indicator),
// not expired, with the scope api:read. Failures answer as Medplum's
// server does: 401 with its "unauthorized" outcomes.
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const scope = 'api:read';

export function newAuth(dir, outcomes) {
  let meta; // the provider's OpenID configuration
  let keys = new Map(); // kid -> KeyObject
  const issuer = () => readFileSync(join(dir, 'url'), 'utf8').trim();

  async function metadata() {
    if (!meta) {
      const res = await fetch(`${issuer()}/.well-known/openid-configuration`);
      if (!res.ok) throw new Error(`openid-configuration: ${res.status}`);
      meta = await res.json();
    }
    return meta;
  }

  async function key(kid) {
    if (!keys.has(kid)) {
      const res = await fetch((await metadata()).jwks_uri);
      if (!res.ok) throw new Error(`jwks: ${res.status}`);
      keys = new Map((await res.json()).keys.map((k) => [k.kid, createPublicKey({ key: k, format: 'jwk' })]));
    }
    return keys.get(kid);
  }

  // check returns undefined for a good token, else the outcome to answer.
  async function check(authorization, audience) {
    const [scheme, token] = (authorization ?? '').split(' ');
    if (scheme?.toLowerCase() !== 'bearer' || !token) return outcomes.unauthorized;
    const [h, p, s] = token.split('.');
    let header, claims;
    try {
      header = JSON.parse(Buffer.from(h, 'base64url'));
      claims = JSON.parse(Buffer.from(p, 'base64url'));
    } catch {
      return outcomes.unauthorized;
    }
    const k = await key(header.kid);
    const alg = { ES256: { dsaEncoding: 'ieee-p1363' }, RS256: {} }[header.alg];
    if (!k || !alg || !s || !verify('sha256', Buffer.from(`${h}.${p}`), { key: k, ...alg }, Buffer.from(s, 'base64url'))) {
      return outcomes.unauthorized;
    }
    if (claims.iss !== (await metadata()).issuer) return outcomes.unauthorized;
    if (![].concat(claims.aud).includes(audience)) return outcomes.unauthorizedTokenAudience;
    if (!(claims.exp > Date.now() / 1000)) return outcomes.unauthorizedTokenExpired;
    if (!(claims.scope ?? '').split(' ').includes(scope)) return outcomes.forbidden;
    return undefined;
  }

  // smart is the SMART configuration: where clients get their tokens.
  async function smart() {
    const m = await metadata();
    return {
      issuer: m.issuer,
      jwks_uri: m.jwks_uri,
      token_endpoint: m.token_endpoint,
      token_endpoint_auth_methods_supported: m.token_endpoint_auth_methods_supported,
      token_endpoint_auth_signing_alg_values_supported: m.token_endpoint_auth_signing_alg_values_supported,
      grant_types_supported: ['client_credentials'],
      scopes_supported: [scope],
      capabilities: ['client-confidential-symmetric', 'client-confidential-asymmetric'],
    };
  }

  return { check, smart };
}
