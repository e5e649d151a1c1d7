// A real Admin API on port 0 over a real store (SQLite in a temp dir, or a throwaway PostgreSQL schema).
import { randomUUID } from 'node:crypto';
import { startAdminApi, type AdminApi, type NodeRole } from '../../src/core/admin/index.js';
import type { NodeInfo } from '../../src/core/admin/info.js';
import type { Store } from '../../src/core/store/index.js';
import { httpClient, type HttpClient } from './http.js';
import { caAndLeafPem, type CaAndLeafPem } from './openssl-pki.js';
import { makeTempDir } from './tmp.js';
import { tempPostgresStore } from './postgres.js';
import { tempSqliteStore } from './sqlite.js';

export type AdminEngine = 'sqlite' | 'postgres';

/** Engines the Admin API suites run on; HYBRID_TEST_ADMIN_ENGINES=sqlite narrows it while iterating. */
export function adminEngines(): AdminEngine[] {
  const wanted = process.env.HYBRID_TEST_ADMIN_ENGINES;
  if (!wanted) return ['sqlite', 'postgres'];
  return wanted.split(',').filter((e): e is AdminEngine => e === 'sqlite' || e === 'postgres');
}

export interface TestAdmin {
  store: Store;
  api: AdminApi;
  http: HttpClient;
  base: string;
  nodeInfo: NodeInfo;
  stop(): Promise<void>;
}

/** Opens a fresh store of `engine`; `close` also removes its files or schema. */
export async function openTestStore(
  engine: AdminEngine,
): Promise<{ store: Store; close: () => Promise<void> }> {
  const { store, cleanup } = engine === 'sqlite' ? await tempSqliteStore() : await tempPostgresStore();
  return { store, close: cleanup };
}

export async function startTestAdmin(
  engine: AdminEngine,
  role: NodeRole = 'control_plane',
): Promise<TestAdmin> {
  const { store, close } = await openTestStore(engine);
  const nodeInfo: NodeInfo = {
    version: '3.4.0',
    hostname: 'test-node',
    node_id: randomUUID(),
    configuration: { role, database: engine, pg_password: 'hunter2', admin_listen: ['127.0.0.1:0'] },
    plugins: {},
  };
  let api: AdminApi;
  try {
    api = await startAdminApi({
      store,
      listen: [{ host: '127.0.0.1', port: 0 }],
      role,
      nodeInfo: { ...nodeInfo, plugins: undefined },
      log: { info: () => {}, warn: () => {}, error: (m) => console.error(`[admin] ${m}`) },
    });
  } catch (err) {
    await close();
    throw err;
  }
  const base = api.addresses[0]!.url;
  const http = httpClient(base);
  return {
    store,
    api,
    http,
    base,
    nodeInfo,
    stop: async () => {
      http.close();
      await api.close();
      await close();
    },
  };
}

let pki: Promise<CaAndLeafPem> | undefined;

/** A CA certificate and a leaf certificate with its key, made once per test run with openssl. */
export async function testCertificate(): Promise<{ ca: string; cert: string; key: string }> {
  pki ??= makeTempDir('hybrid-admin-pki-').then(async ({ dir, cleanup }) => {
    try {
      return await caAndLeafPem(dir);
    } finally {
      await cleanup();
    }
  });
  const { caCert, leafCert, leafKey } = await pki;
  return { ca: caCert, cert: leafCert, key: leafKey };
}
