// The monitor interface: server-rendered pages (hono/jsx) over the master's own JSON API.
//
//   createDashboard({ adminToken, now, api }) → Hono sub-app, mounted at '/' by createApp.
//
// Pages read data only through `api(path, init)` (in-process `app.request`) with the admin
// token, so the dashboard never touches the store; only its login sessions are stored
// (`sessions`, see sessions.ts). Login: POST the admin token (compared in constant time)
// → HttpOnly, SameSite=Strict cookie holding a random session id. POST /logout deletes the
// session; both forms refuse posts from another site. Without a valid cookie `/` answers
// the login form (200) and every other page but /login and /assets redirects (303) to
// /login?next=<page>. No `use('*')` middleware is registered, so mounting at '/' never
// affects /v1.
import { type Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Child } from 'hono/jsx';
import { CLIENT_JS } from './client.ts';
import { createVigilClient, type FetchLike, VigilApiError } from '../../protocol/client.ts';
import { DashboardData, instantiationView, partitionView } from './data.ts';
import { neutraliseBidi } from './display.ts';
import { ErrorPage, LoginPage, LogoutPage } from './layout.tsx';
import {
  BangsPage,
  ComputerPage,
  CrimesPage,
  FleetPage,
  PartitionPage,
  TreePage,
  TreesPage,
} from './pages.tsx';
import { constantTimeEqual } from '../auth.ts';
import type { AuthGuard } from '../limiter.ts';
import { isStoreUnavailable, STORE_RETRY_AFTER_SECONDS } from '../store/errors.ts';
import { isCrossSite, SESSION_COOKIE, SESSION_TTL_SECONDS, type Sessions } from './sessions.ts';
import { DASHBOARD_CSS, FAVICON_SVG } from './styles.ts';
import { partitionsBangedToday } from './view-model.ts';

export interface DashboardOptions {
  /** The admin token (a getter: on Lambda it comes from Secrets Manager and may rotate). */
  adminToken: () => string | Promise<string>;
  /** The master's clock. */
  now: () => Date;
  /** Calls the master's JSON API, e.g. `(path, init) => app.request(path, init)` (the typed client's fetch). */
  api: FetchLike;
  /** Server-side login sessions (createSessions over the master's store). */
  sessions: Sessions;
  /** The master's failure limiter (wrong logins count with wrong API tokens). */
  guard?: AuthGuard;
}

/** Bangs read for the bang log, the trees' bangs and today's quota use (the API's maximum). */
const BANG_LOG_FETCH = 1000;

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on the
  // dashboard's own form posts, which the cross-site check of /login and /logout refuses
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

function isHttps(c: Context): boolean {
  const proto = c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  if (proto) return proto === 'https';
  return new URL(c.req.url).protocol === 'https:';
}

/** Only local absolute paths are accepted as a post-login destination (no open redirect). */
export function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[^\s]*$/.test(value) && !value.startsWith('/login')
    ? value
    : '/';
}

/** Every page goes out through here: bidi controls of agent text are made visible. */
async function html(_c: Context, page: Child, status = 200): Promise<Response> {
  const body = neutraliseBidi(`<!doctype html>${await page}`);
  return new Response(body, {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS },
  });
}

type Render = (data: DashboardData, now: Date, c: Context) => Promise<Child> | Child;
/** Wraps a page's render: the login check, the data layer, errors as an error page. */
type PageHandler = (render: Render) => (c: Context) => Promise<Response>;

export function createDashboard(opts: DashboardOptions): Hono {
  const app = new Hono();
  const { sessions } = opts;

  const token = () => adminTokenOf(opts);

  /** A page behind the login: redirect when there is no valid session, API errors → error page. */
  const page =
    (render: Render) =>
    async (c: Context): Promise<Response> => {
      const adminToken = await token();
      const now = opts.now();
      let valid: boolean;
      try {
        valid = await sessions.verify(adminToken, getCookie(c, SESSION_COOKIE));
      } catch (err) {
        if (isStoreUnavailable(err)) return storeDown(c, opts.now(), 'The master cannot read its store now, retry later', err);
        throw err;
      }
      if (!valid) {
        const next = new URL(c.req.url).pathname;
        // `/` (what an operator types, what a plain `curl` fetches) answers the login form
        // itself (200); every other page redirects to it and comes back after the login.
        if (next === '/') return html(c, <LoginPage next="/" />);
        return c.redirect(`/login?next=${encodeURIComponent(next)}`, 303);
      }
      try {
        return await html(c, await render(new DashboardData(createVigilClient({ fetch: opts.api, token: adminToken })), now, c));
      } catch (err) {
        if (err instanceof VigilApiError) {
          // the API's own 4xx (bad id, unknown id) is the user's; anything else is a bad gateway
          const status = err.status === 404 || err.status === 400 || err.status === 503 ? err.status : 502;
          return html(c, <ErrorPage now={now} status={status} message={err.message} />, status);
        }
        throw err;
      }
    };

  const asset = (path: string, body: string, type: string, maxAgeSeconds: number) =>
    app.get(path, (c) => c.body(body, 200, { 'content-type': type, 'cache-control': `public, max-age=${maxAgeSeconds}`, 'x-content-type-options': 'nosniff' }));
  asset('/assets/dashboard.css', DASHBOARD_CSS, 'text/css; charset=utf-8', 300);
  asset('/assets/dashboard.js', CLIENT_JS, 'text/javascript; charset=utf-8', 300);
  asset('/assets/favicon.svg', FAVICON_SVG, 'image/svg+xml', 86400);

  registerLogin(app, opts);
  registerPages(app, page);

  return app;
}

const adminTokenOf = async (opts: DashboardOptions): Promise<string> => (await opts.adminToken()) ?? '';

/** The store cannot be used now (e.g. the local master's disk is full): 503 page. */
async function storeDown(c: Context, now: Date, what: string, err: unknown): Promise<Response> {
  const res = await html(c, <ErrorPage now={now} status={503} message={`${what}: ${(err as Error).message}`} />, 503);
  res.headers.set('retry-after', String(STORE_RETRY_AFTER_SECONDS));
  return res;
}

/** Login (the admin token, limited like the API's failures) and logout (POST, same site only). */
function registerLogin(app: Hono, opts: DashboardOptions): void {
  const { sessions } = opts;
  async function loggedIn(c: Context): Promise<boolean> {
    try {
      return await sessions.verify(await adminTokenOf(opts), getCookie(c, SESSION_COOKIE));
    } catch (err) {
      if (isStoreUnavailable(err)) return false;
      throw err;
    }
  }

  const tooManyFailures = async (c: Context, next: string, retry: number) => {
    const res = await html(c, <LoginPage next={next} error={`Too many failed logins from your address: try again in ${retry} s.`} />, 429);
    res.headers.set('retry-after', String(retry));
    return res;
  };

  const crossSite = (c: Context) =>
    html(c, <ErrorPage now={opts.now()} status={403} message="This form was posted from another site: refused." />, 403);

  app.get('/login', async (c) => {
    if (await loggedIn(c)) return c.redirect(safeNext(c.req.query('next')), 303);
    return html(c, <LoginPage next={safeNext(c.req.query('next'))} />);
  });

  app.post('/login', async (c) => {
    if (isCrossSite(c)) return crossSite(c);
    let form: Record<string, unknown> = {};
    try {
      form = (await c.req.parseBody()) as Record<string, unknown>;
    } catch {
      form = {};
    }
    const next = safeNext(form['next']);
    // a client over the failure limit gets no comparison at all (functions/limiter.ts)
    const blocked = opts.guard?.guessesBlocked(c) ?? 0;
    if (blocked) return tooManyFailures(c, next, blocked);
    const given = typeof form['token'] === 'string' ? form['token'].trim() : '';
    const adminToken = await adminTokenOf(opts);
    if (!adminToken || !given || !constantTimeEqual(given, adminToken)) {
      const retry = opts.guard?.fail(c) ?? 0;
      if (retry) return tooManyFailures(c, next, retry);
      return html(c, <LoginPage next={next} error="Wrong admin token." />, 401);
    }
    let session: string;
    try {
      session = await sessions.create(adminToken);
    } catch (err) {
      if (isStoreUnavailable(err)) return storeDown(c, opts.now(), 'The master cannot store a login session now, retry later', err);
      throw err;
    }
    setCookie(c, SESSION_COOKIE, session, {
      path: '/',
      httpOnly: true,
      sameSite: 'Strict',
      secure: isHttps(c),
      maxAge: SESSION_TTL_SECONDS,
    });
    return c.redirect(next, 303);
  });

  app.post('/logout', async (c) => {
    if (isCrossSite(c)) return crossSite(c);
    try {
      await sessions.revoke(getCookie(c, SESSION_COOKIE));
    } catch (err) {
      // the session would stay valid: say so rather than only forget the cookie
      if (isStoreUnavailable(err)) return storeDown(c, opts.now(), 'The master cannot end the session now (it is still valid), retry later', err);
      throw err;
    }
    deleteCookie(c, SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'Strict', secure: isHttps(c) });
    return c.redirect('/login', 303);
  });
  // Not a logout: a page with the button (another site can make a browser GET anything).
  app.get('/logout', (c) => html(c, <LogoutPage />));

}

/** The dashboard's pages: each reads what it shows through the data layer. */
function registerPages(app: Hono, page: PageHandler): void {
  app.get(
    '/',
    page(async (data, now) => {
      const [computers, partitions] = await Promise.all([data.computers(), data.partitions()]);
      return <FleetPage now={now} computers={computers} partitions={partitions} />;
    }),
  );

  app.get(
    '/computers/:id',
    page(async (data, now, c) => {
      const id = c.req.param('id') ?? '';
      const [computer, partitions] = await Promise.all([data.computer(id), data.partitions()]);
      return <ComputerPage now={now} computer={computer} partitions={partitions} />;
    }),
  );

  app.get(
    '/trees',
    page(async (data, now) => {
      const [computers, partitions] = await Promise.all([data.computers(), data.partitions()]);
      return <TreesPage now={now} computers={computers} partitions={partitions} />;
    }),
  );

  app.get(
    '/trees/:id',
    page(async (data, now, c) => {
      const id = c.req.param('id') ?? '';
      const [partitions, bangs] = await Promise.all([data.tree(id), data.bangs(undefined, BANG_LOG_FETCH)]);
      return <TreePage now={now} treeId={id} partitions={partitions} bangs={bangs} />;
    }),
  );

  app.get(
    '/partitions/:id',
    page(async (data, now, c) => {
      const id = c.req.param('id') ?? '';
      const [raw, promisesJson, bangs] = await Promise.all([data.rawPartition(id), data.promises(id), data.bangs(id)]);
      const promises =
        promisesJson.instantiations.length === 0 && raw.lastReport
          ? { ...promisesJson, instantiations: [instantiationView(raw.lastReport)] }
          : promisesJson;
      return <PartitionPage now={now} partition={partitionView(raw)} promises={promises} bangs={bangs} />;
    }),
  );

  app.get(
    '/bangs',
    page(async (data, now) => {
      const bangs = await data.bangs(undefined, BANG_LOG_FETCH);
      const quota = await data.quotaUse(partitionsBangedToday(bangs, now));
      return <BangsPage now={now} bangs={bangs} quota={quota} />;
    }),
  );

  app.get(
    '/crimes',
    page(async (data, now) => {
      const partitions = await data.partitions();
      return <CrimesPage now={now} partitions={partitions} />;
    }),
  );
}
