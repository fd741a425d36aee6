// The admin HTTP API (SPEC §5): probes, health, metrics, stats, the running config and reload.
// buildAdmin(deps) returns a fastify instance that is not listening (main.ts listens on
// `admin.address`); tests drive it with inject().
//
// Answers are JSON except /metrics (Prometheus text). Errors are `{ error, message }` with a code
// from errors.ts. /config and every POST go through `authorize` (auth.ts): bearer token when one is
// configured, loopback only when none is. Probes and read-only figures are open: they carry no secret.

import { fastify, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { redactConfig } from '../config/redact.js';
import type { StoreStats } from '../store/store.js';
import { authorize } from './auth.js';
import { AdminErrorCode, errorBody } from './errors.js';
import { createSnapshotRefresher } from './metric-snapshots.js';
import { collectStats } from './stats.js';
import type { AdminDeps, AdminSessionView } from './types.js';

/** POST bodies are ignored (reload reads the config source), but are bounded all the same. */
const BODY_LIMIT = 64 * 1024;
const DEFAULT_STORE_TIMEOUT_MS = 2_000;

/** Resolves with `p`'s value, or rejects when it takes longer than `ms` (a hung Redis must not hang a probe). */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** A bound client session as GET /sessions shows it. */
function sessionView(s: AdminSessionView) {
  return {
    id: s.id,
    systemId: s.systemId,
    listener: s.listener,
    bindType: s.bindType,
    remoteAddress: s.remoteAddress,
    boundAt: new Date(s.boundAt).toISOString(),
  };
}

export function buildAdmin(deps: AdminDeps): FastifyInstance {
  const { logger, metrics, store } = deps;
  const storeTimeoutMs = deps.storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
  const refreshSnapshots = createSnapshotRefresher(deps);

  // Our own pino logger rather than fastify's: probes come every few seconds and must not log a
  // line each; errors are logged by the error handler below.
  const app = fastify({ logger: false, bodyLimit: BODY_LIMIT, return503OnClosing: true });

  // Accept and ignore any POST body (`curl -X POST` sends none, some clients send `{}`).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, _body, done) => done(null, undefined));

  app.setNotFoundHandler((_request, reply) => {
    void reply.code(404).send(errorBody(AdminErrorCode.NOT_FOUND, 'no such endpoint'));
  });

  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, request, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      void reply.code(status).send(errorBody(AdminErrorCode.BAD_REQUEST, err.message));
      return;
    }
    logger.error({ err, method: request.method, path: request.routeOptions.url }, 'admin request failed');
    void reply.code(500).send(errorBody(AdminErrorCode.INTERNAL, 'internal error, see the proxy log'));
  });

  /** onRequest hook of the protected endpoints: runs before any body is read. */
  async function requireAdmin(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const decision = authorize(
      { authorization: request.headers.authorization, remoteAddress: request.socket.remoteAddress },
      deps.config().admin.token,
    );
    if (decision.allowed) return;
    logger.warn({ path: request.routeOptions.url, remote: request.socket.remoteAddress, reason: decision.reason }, 'admin request refused');
    if (decision.status === 401) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="smppd"')
        .send(errorBody(AdminErrorCode.UNAUTHORIZED, 'this endpoint needs Authorization: Bearer <admin token>'));
    } else {
      await reply
        .code(403)
        .send(errorBody(AdminErrorCode.FORBIDDEN, 'no admin token is configured: this endpoint answers loopback addresses only'));
    }
  }

  async function storeStats(): Promise<StoreStats | undefined> {
    try {
      return await withTimeout(store.stats(), storeTimeoutMs);
    } catch (err) {
      logger.warn({ err }, 'store stats unavailable');
      return undefined;
    }
  }

  async function storeReachable(): Promise<boolean> {
    if (store.healthy === undefined) return true;
    try {
      return await withTimeout(Promise.resolve(store.healthy()), storeTimeoutMs);
    } catch {
      return false;
    }
  }

  // ---- probes ---------------------------------------------------------------------------------

  app.get('/livez', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    // `ready()` covers "config loaded" (there is no proxy without one) and "listeners accept"
    // (started, not draining).
    const checks = { listeners: deps.ready(), store: await storeReachable() };
    if (checks.listeners && checks.store) return { status: 'ready', checks };
    const message = !checks.listeners ? 'not started or draining' : 'store unreachable';
    const storeProblem = checks.store ? undefined : store.problem?.();
    return reply.code(503).send(errorBody(AdminErrorCode.NOT_READY, message, storeProblem === undefined ? { checks } : { checks, storeProblem }));
  });

  app.get('/healthz', async (_request, reply) => {
    const clusters = deps.clusters();
    const listeners = deps.listeners().map((l) => ({ name: l.name, address: l.address ?? null, ...l.stats }));
    const [stats, reachable] = await Promise.all([storeStats(), storeReachable()]);
    const config = deps.config();
    const body = {
      // SPEC §5: 503 when no cluster can take traffic (some endpoint bound with its circuit letting requests through).
      status: clusters.some((c) => c.available) ? 'ok' : 'unavailable',
      ready: deps.ready(),
      listeners,
      clusters,
      store: {
        backend: config.store.backend,
        reachable: reachable && stats !== undefined,
        entries: stats?.entries ?? null,
        pendingDeliveries: stats?.pendingDeliveries ?? null,
        // Why it is not reachable, when the store can tell (store.backend: redis).
        problem: (reachable ? undefined : store.problem?.()) ?? null,
      },
    };
    return reply.code(body.status === 'ok' ? 200 : 503).send(body);
  });

  // ---- figures --------------------------------------------------------------------------------

  app.get('/metrics', async (_request, reply) => {
    const [stats, reachable] = await Promise.all([storeStats(), storeReachable()]);
    await refreshSnapshots(stats, reachable && stats !== undefined);
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });

  app.get('/stats', async () => collectStats(deps, await storeStats()));

  app.get('/store/stats', async (_request, reply) => {
    const stats = await storeStats();
    if (stats === undefined) {
      return reply.code(503).send(errorBody(AdminErrorCode.STORE_UNAVAILABLE, 'the store did not answer'));
    }
    return { backend: deps.config().store.backend, ...stats };
  });

  app.get('/feedback/stats', async () => deps.feedback.snapshot());

  // ---- config (protected) ---------------------------------------------------------------------

  app.get('/config', { onRequest: requireAdmin }, async () => redactConfig(deps.config()));

  // ---- client sessions (protected: they name clients and their addresses) -----------------------

  app.get('/sessions', { onRequest: requireAdmin }, async () => ({ sessions: deps.sessions().map(sessionView) }));

  app.post<{ Params: { id: string } }>('/sessions/:id/unbind', { onRequest: requireAdmin }, async (request, reply) => {
    const session = deps.sessions().find((s) => s.id === request.params.id);
    if (session === undefined) {
      return reply.code(404).send(errorBody(AdminErrorCode.NOT_FOUND, `no bound client session ${request.params.id} on this replica`));
    }
    session.unbind();
    return reply.code(202).send({ status: 'unbinding', session: sessionView(session) });
  });

  app.post('/config/reload', { onRequest: requireAdmin }, async (_request, reply) => {
    const outcome = await deps.reload();
    if (!outcome.ok) {
      const problems = outcome.problems ?? [];
      return reply.code(400).send(
        errorBody(AdminErrorCode.INVALID_CONFIG, `config not applied: ${problems.length} problem(s), running config unchanged`, {
          problems,
        }),
      );
    }
    return { status: 'reloaded', changes: outcome.changes ?? null, warnings: outcome.warnings ?? [] };
  });

  return app;
}
