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
import { DashboardData, instantiationView, type SearchKind } from './data.ts';
import { neutraliseBidi } from './display.ts';
import { silencesHolding } from './notify-view.ts';
import { ErrorPage, LoginPage, LogoutPage, type SummaryState } from './layout.tsx';
import { ChannelsPage, EventsPage, SilencesPage } from './notify-pages.tsx';
import { BangsPage, ComputerPage, CrimesPage, FleetPage, PartitionPage, PartitionsPage, TreePage } from './pages.tsx';
import { clip, FLEET_FAILING_ROWS, listParams, PARTITION_BANG_ROWS, searchId, TABLE_SIZES, TREE_BANG_SCAN } from './paging.ts';
import { constantTimeEqual } from '../auth.ts';
import type { AuthGuard } from '../limiter.ts';
import { isStoreUnavailable, STORE_RETRY_AFTER_SECONDS } from '../store/errors.ts';
import { isCrossSite, SESSION_COOKIE, SESSION_TTL_SECONDS, type Sessions } from './sessions.ts';
import { DASHBOARD_CSS, FAVICON_SVG } from './styles.ts';

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

/** A page's content, or a response of its own (a redirect to a searched id's page). */
type Render = (data: DashboardData, now: Date, c: Context) => Promise<Child | Response> | Child | Response;
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
        const url = new URL(c.req.url);
        const next = `${url.pathname}${url.search}`;
        // `/` (what an operator types, what a plain `curl` fetches) answers the login form
        // itself (200); every other page redirects to it and comes back after the login.
        if (next === '/') return html(c, <LoginPage next="/" />);
        return c.redirect(`/login?next=${encodeURIComponent(next)}`, 303);
      }
      try {
        const out = await render(new DashboardData(createVigilClient({ fetch: opts.api, token: adminToken })), now, c);
        return out instanceof Response ? out : await html(c, out);
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

/** The fleet's counts for the summary bar; a failed read leaves the bar empty, not the page. */
async function summaryState(data: DashboardData): Promise<SummaryState> {
  try {
    return { counts: await data.summary() };
  } catch (err) {
    if (err instanceof VigilApiError && err.status !== 503) return { unavailable: `${err.request} answered ${err.status || 'nothing'}: ${err.message}` };
    throw err;
  }
}

/**
 * `?q=` of a list page: the page of that exact id (a 303 there), or a notice saying none has
 * it. The API has no prefix search: an id is found only whole.
 */
async function search(data: DashboardData, c: Context, kinds: readonly SearchKind[]): Promise<{ redirect?: string; notice?: string; text?: string }> {
  const text = c.req.query('q')?.trim();
  if (!text) return {};
  const id = searchId(text);
  if (!id) return { text, notice: `"${clip(text, 128)}" cannot be an id (1-128 characters of A-Z a-z 0-9 . _ : @ - starting with a letter or digit).` };
  const href = await data.find(id, kinds);
  return href ? { redirect: href } : { text, notice: `No ${kinds.join(', ')} has the id "${id}".` };
}

const notFound = (err: unknown) => err instanceof VigilApiError && err.status === 404;

/** The dashboard's pages: each reads what it shows through the data layer, one API page of each list. */
function registerPages(app: Hono, page: PageHandler): void {
  app.get(
    '/',
    page(async (data, now, c) => {
      const found = await search(data, c, ['computer', 'partition', 'tree']);
      if (found.redirect) return c.redirect(found.redirect, 303);
      const params = listParams(c.req.query(), TABLE_SIZES.computers);
      const [summary, computers, failing] = await Promise.all([
        summaryState(data),
        data.computers({ limit: params.limit, cursor: params.cursor, colour: params.colour }),
        data.partitions({ limit: FLEET_FAILING_ROWS, colour: 'red' }),
      ]);
      return <FleetPage now={now} summary={summary} params={params} computers={computers} failing={failing} search={found.text} notice={found.notice} />;
    }),
  );

  const partitionsList = page(async (data, now, c) => {
    const found = await search(data, c, ['partition', 'tree', 'computer']);
    if (found.redirect) return c.redirect(found.redirect, 303);
    const params = listParams(c.req.query(), TABLE_SIZES.partitions, ['green', 'red']);
    const [summary, partitions] = await Promise.all([
      summaryState(data),
      data.partitions({
        limit: params.limit,
        cursor: params.cursor,
        colour: params.colour === 'orange' ? undefined : params.colour,
        instanceTreeId: params.tree,
        computerId: params.computer,
      }),
    ]);
    return <PartitionsPage now={now} summary={summary} params={params} partitions={partitions} search={found.text} notice={found.notice} />;
  });
  app.get('/partitions', partitionsList);
  // the former instance-trees page: the same list (a tree is a filter of it)
  app.get('/trees', partitionsList);

  app.get(
    '/computers/:id',
    page(async (data, now, c) => {
      const id = c.req.param('id') ?? '';
      const params = listParams(c.req.query(), TABLE_SIZES.partitions, ['green', 'red']);
      const [computer, partitions, silenced] = await Promise.all([
        data.computer(id),
        data.partitions({ limit: params.limit, cursor: params.cursor, computerId: id, colour: params.colour === 'orange' ? undefined : params.colour }),
        data.silencesHolding({ computerId: id }),
      ]);
      return <ComputerPage now={now} computer={computer} params={params} partitions={partitions} silenced={silenced} />;
    }),
  );

  app.get(
    '/trees/:id',
    page(async (data, now, c) => {
      const id = c.req.param('id') ?? '';
      const params = listParams(c.req.query(), TABLE_SIZES.partitions, []);
      const [tree, bangs, silenced] = await Promise.all([
        data.tree(id, { limit: params.limit, cursor: params.cursor }),
        data.bangs({ limit: TREE_BANG_SCAN }),
        data.silencesHolding({ instanceTreeId: id }),
      ]);
      const mine = bangs.items.filter((b) => b.instanceTreeId === id);
      return <TreePage now={now} tree={tree} params={params} bangs={mine} bangsScanned={TREE_BANG_SCAN} silenced={silenced} />;
    }),
  );

  app.get(
    '/partitions/:id',
    page(async (data, now, c) => {
      const id = c.req.param('id') ?? '';
      const params = listParams(c.req.query(), TABLE_SIZES.reports, []);
      const [partition, promises, bangs, active] = await Promise.all([
        data.partition(id),
        data.promises(id, { limit: params.limit, cursor: params.cursor }),
        data.bangs({ partitionId: id, limit: PARTITION_BANG_ROWS }),
        data.silencesHolding({}),
      ]);
      // the silences that hold it: of itself, of its computer or of its tree (known once it is read)
      const silenced = { ...active, silences: silencesHolding(active.all, partition) };
      // the first page of reports falls back on the partition's last report when none is listed
      const withLast =
        !params.cursor && promises.instantiations.length === 0 && partition.lastReport
          ? { ...promises, instantiations: [instantiationView(partition.lastReport)] }
          : promises;
      return <PartitionPage now={now} partition={partition} promises={withLast} params={params} bangs={bangs} silenced={silenced} />;
    }),
  );

  app.get(
    '/bangs',
    page(async (data, now, c) => {
      const params = listParams(c.req.query(), TABLE_SIZES.bangs, []);
      const [bangs, partition] = await Promise.all([
        data.bangs({ limit: params.limit, cursor: params.cursor, partitionId: params.partition }),
        params.partition ? data.partition(params.partition).catch((err) => (notFound(err) ? undefined : Promise.reject(err))) : undefined,
      ]);
      return <BangsPage now={now} params={params} bangs={bangs} partition={partition} />;
    }),
  );

  app.get(
    '/events',
    page(async (data, now, c) => {
      const params = listParams(c.req.query(), TABLE_SIZES.events, []);
      const events = await data.events({ limit: params.limit, cursor: params.cursor, partitionId: params.partition, computerId: params.computer });
      return <EventsPage now={now} params={params} events={events} />;
    }),
  );

  app.get(
    '/silences',
    page(async (data, now, c) => {
      const params = listParams(c.req.query(), TABLE_SIZES.silences, []);
      return <SilencesPage now={now} params={params} silences={await data.silences({ limit: params.limit, cursor: params.cursor })} />;
    }),
  );

  app.get(
    '/channels',
    page(async (data, now, c) => {
      const params = listParams(c.req.query(), TABLE_SIZES.channels, []);
      return <ChannelsPage now={now} params={params} channels={await data.channels({ limit: params.limit, cursor: params.cursor })} />;
    }),
  );

  app.get(
    '/crimes',
    page(async (data, now, c) => {
      const params = listParams(c.req.query(), TABLE_SIZES.crimes, []);
      const partitions = await data.partitions({ limit: params.limit, cursor: params.cursor, crimes: true });
      return <CrimesPage now={now} params={params} partitions={partitions} />;
    }),
  );
}
