// Who a remote is: `lxc query REMOTE:/1.0` answers with the server's environment (LXD
// shared/api/server.go, ServerEnvironment: server_name, certificate_fingerprint,
// server_clustered). A saved plan records the name and fingerprint, so a remote name that now
// points at another server is refused.

export interface ServerIdentity {
  serverName: string;
  /** sha256 of the server's certificate, hex. */
  fingerprint: string;
  clustered: boolean;
}

export function parseServerIdentity(json: string): ServerIdentity | null {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return null;
  }
  const env = typeof raw === 'object' && raw !== null ? (raw as { environment?: unknown }).environment : undefined;
  if (typeof env !== 'object' || env === null) return null;
  const e = env as Record<string, unknown>;
  const name = e['server_name'];
  const fingerprint = e['certificate_fingerprint'];
  if (typeof name !== 'string' || typeof fingerprint !== 'string' || !/^[0-9a-f]{64}$/.test(fingerprint)) return null;
  return { serverName: name, fingerprint, clustered: e['server_clustered'] === true };
}

/** Why a saved plan's remote is not the one the name reaches now, or null when it is. */
export function serverChange(host: string, remote: string, planned: ServerIdentity, now: ServerIdentity): string | null {
  if (planned.fingerprint === now.fingerprint) return null;
  return `remote ${remote} (host ${host}) is now server ${now.serverName} with certificate ${now.fingerprint.slice(0, 12)}…, but the plan was made against ${planned.serverName} with certificate ${planned.fingerprint.slice(0, 12)}…`;
}
