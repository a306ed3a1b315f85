// Aggregated and distributed claims (OpenID Connect Core 1.0, 5.6.2) for careless-rp.mjs.
// A UserInfo answer may leave claims to sources: `_claim_names` maps a claim to a source,
// `_claim_sources` holds the source's signed JWT (aggregated) or an endpoint and an access
// token whose endpoint answers that JWT (distributed). The careful RP adopts a claim only
// from a JWT the OP signed (verified like an ID token, its iss and sub the OP's and the
// user's) and sends a source's access token only to an endpoint on the issuer's origin, in
// the Authorization header. A source that fails is dropped (logged `dropped: ...`), not the
// sign-in: the claims it would have given are simply absent.
//
// Switches (careless-rp.mjs lists them at the end of SWITCHES):
//   claims_signature: adopts a source's claims from its JWT without verifying the signature
//     (the JWT came inside the OP's own answer, or from an endpoint the OP named);
//   claims_endpoint: fetches a distributed source from whatever endpoint the answer names,
//     handing that host the access token (CWE-522).
//
// The caller passes what it owns (verification, the switch test, HTTP, the OP), so this file
// imports nothing from careless-rp.mjs.

/// `info` (a UserInfo answer already bound to the ID token's sub) with every claim its
/// sources vouch for. `rp`: { careful(name), verifyJwt(jwt, switchName), getJson(url, init),
/// issuer, sub, isRefusal(e) }.
export async function resolveClaimSources(info, rp) {
  const names = info._claim_names;
  const sources = info._claim_sources;
  if (!isObject(names) || !isObject(sources)) return info;
  const out = { ...info };
  delete out._claim_names;
  delete out._claim_sources;
  const resolved = new Map();
  for (const [claim, src] of Object.entries(names)) {
    if (typeof src !== 'string' || claim in out) continue;
    if (!resolved.has(src)) resolved.set(src, await sourceClaims(src, sources[src], rp));
    const got = resolved.get(src);
    if (got && claim in got) out[claim] = got[claim];
  }
  return out;
}

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

async function sourceClaims(name, source, rp) {
  try {
    if (!isObject(source)) throw new Error('_claim_sources does not describe it');
    const jwt = typeof source.JWT === 'string' ? source.JWT : await fetchDistributed(source, rp);
    return await verifiedClaims(jwt.trim(), rp);
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    console.error(`dropped: claims source ${JSON.stringify(name)}: ${rp.isRefusal(e) ? `${e.check}: ` : ''}${e.message}`);
    return undefined;
  }
}

// claims_endpoint: the careful RP sends the source's access token only to the issuer's own
// origin; the careless one to whatever host the answer names.
async function fetchDistributed(source, rp) {
  if (typeof source.endpoint !== 'string') throw new Error('neither a JWT nor an endpoint');
  const origin = (u) => {
    try {
      return new URL(u).origin;
    } catch {
      return undefined;
    }
  };
  if (rp.careful('claims_endpoint') && origin(source.endpoint) !== origin(rp.issuer)) {
    throw new Error(`endpoint ${source.endpoint} is not on the issuer's origin`);
  }
  const headers = typeof source.access_token === 'string' ? { authorization: `Bearer ${source.access_token}` } : {};
  const r = await rp.getJson(source.endpoint, { headers });
  if (r.status !== 200) throw new Error(`endpoint answered ${r.status}`);
  return r.text;
}

// claims_signature: verifyJwt decodes only when the switch is off.
async function verifiedClaims(jwt, rp) {
  const jws = await rp.verifyJwt(jwt, 'claims_signature');
  const claims = JSON.parse(jws.payloadText);
  if (!isObject(claims)) throw new Error('the source JWT is not an object');
  if (rp.careful('claims_signature')) {
    if (claims.iss !== undefined && claims.iss !== rp.issuer) throw new Error(`iss ${JSON.stringify(claims.iss)} is not the OP's`);
    if (claims.sub !== undefined && rp.sub !== undefined && claims.sub !== rp.sub) throw new Error('sub is not the ID token\'s');
  }
  return claims;
}
