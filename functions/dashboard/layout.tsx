// Page frame shared by every dashboard view, and small shared components.
import type { Child } from 'hono/jsx';
import type { SummaryView } from './data.ts';
import type { Silence } from '../../protocol/events.ts';
import { silenceTarget } from './notify-view.ts';
import { COLOUR_LABEL, type Colour, formatTime, timeAgo } from './view-model.ts';

export const REFRESH_SECONDS = 30;

export type Section = 'fleet' | 'partitions' | 'bangs' | 'crimes' | 'events' | 'silences' | 'channels' | 'none';

/** The summary bar: the fleet's counts (GET /v1/summary), or why they could not be read. */
export type SummaryState = { counts: SummaryView } | { unavailable: string };

const NAV: [Section, string, string][] = [
  ['fleet', '/', 'Fleet'],
  ['partitions', '/partitions', 'Partitions'],
  ['bangs', '/bangs', 'Bangs'],
  ['crimes', '/crimes', 'Crimes'],
  ['events', '/events', 'Events'],
  ['silences', '/silences', 'Silences'],
  ['channels', '/channels', 'Channels'],
];

export function Layout(props: {
  title: string;
  section: Section;
  now: Date;
  summary?: SummaryState;
  children?: Child;
}) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · vigil`}</title>
        <link rel="stylesheet" href="/assets/dashboard.css" />
        <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
        <script src="/assets/dashboard.js" defer />
        <noscript>
          <meta http-equiv="refresh" content={String(REFRESH_SECONDS)} />
        </noscript>
      </head>
      <body data-refresh={String(REFRESH_SECONDS)}>
        <header class="top">
          <a class="brand" href="/">
            vigil
          </a>
          <nav aria-label="Sections">
            {NAV.map(([id, href, text]) => (
              <a href={href} aria-current={props.section === id ? 'page' : undefined}>
                {text}
              </a>
            ))}
          </nav>
          <form method="post" action="/logout">
            <button type="submit">Log out</button>
          </form>
        </header>
        <section id="summary" aria-label="Summary">
          {props.summary ? <Summary state={props.summary} now={props.now} /> : ''}
        </section>
        <main id="main">{props.children}</main>
        <footer>
          <span id="updated">
            Updated <time datetime={props.now.toISOString()}>{formatTime(props.now)}</time> (master clock)
          </span>{' '}
          · refreshes every {REFRESH_SECONDS} s <button id="refresh-now" type="button">Refresh now</button>{' '}
          <span id="refresh-status" aria-live="polite" />
        </footer>
      </body>
    </html>
  );
}

function Summary(props: { state: SummaryState; now: Date }) {
  if ('unavailable' in props.state) {
    return (
      <p class="meta" data-summary="unavailable">
        Fleet counts unavailable: {props.state.unavailable}
      </p>
    );
  }
  const { computers, partitions, asOf } = props.state.counts;
  return (
    <>
      <CountBox colour="green" label="computers OK" n={computers.green} id="computers-green" href="/?colour=green" />
      <CountBox colour="orange" label="computers late" n={computers.orange} id="computers-orange" href="/?colour=orange" />
      <CountBox colour="red" label="computers lost" n={computers.red} id="computers-red" href="/?colour=red" />
      <CountBox colour="green" label="partitions OK" n={partitions.green} id="partitions-green" href="/partitions?colour=green" />
      <CountBox colour="red" label="partitions failing" n={partitions.red} id="partitions-red" href="/partitions?colour=red" />
      <span class="meta as-of" data-as-of={asOf}>
        counts as of <Ago at={asOf} now={props.now} />
      </span>
    </>
  );
}

function CountBox(props: { colour: Colour; label: string; n: number; id: string; href: string }) {
  return (
    <a class="count" data-count={props.id} href={props.href}>
      <span class={`dot ${props.colour}`} />
      <b>{props.n}</b> {props.label}
    </a>
  );
}

/** A colour is always shown with its text label, never alone. */
export function Badge(props: { colour: Colour; title?: string }) {
  return (
    <span class={`badge ${props.colour}`} data-colour={props.colour} title={props.title || undefined}>
      {COLOUR_LABEL[props.colour]}
    </span>
  );
}

/** "since 12 min ago": when the current colour started (nothing when unknown). */
export function Since(props: { at: string | undefined; now: Date }) {
  if (!props.at) return '';
  return (
    <span class="since" data-since={props.at}>
      since <Ago at={props.at} now={props.now} />
    </span>
  );
}

export function Ago(props: { at: string | undefined; now: Date }) {
  if (!props.at) return <span class="empty">never</span>;
  return (
    <time datetime={props.at} title={formatTime(props.at)}>
      {timeAgo(props.at, props.now)}
    </time>
  );
}

/** The bare page of the login and logout forms (no navigation: no session yet, or no more). */
function AuthShell(props: { title: string; page: string; children: unknown }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} · vigil</title>
        <link rel="stylesheet" href="/assets/dashboard.css" />
        <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
      </head>
      <body data-page={props.page}>
        <main class="login card">
          <h1>vigil — {props.title.toLowerCase()}</h1>
          {props.children}
        </main>
      </body>
    </html>
  );
}

export function LoginPage(props: { error?: string; next: string }) {
  return (
    <AuthShell title="Log in" page="login">
      <form method="post" action="/login">
        <input type="hidden" name="next" value={props.next} />
        <label for="token">Admin token</label>
        <input id="token" name="token" type="password" autocomplete="off" required autofocus />
        {props.error ? (
          <p class="error" role="alert">
            {props.error}
          </p>
        ) : (
          ''
        )}
        <button type="submit">Log in</button>
      </form>
    </AuthShell>
  );
}

/** GET /logout: a button, not a logout (a GET can come from any site). */
export function LogoutPage() {
  return (
    <AuthShell title="Log out" page="logout">
      <form method="post" action="/logout">
        <button type="submit">Log out</button>
      </form>
      <p>
        <a href="/">Back to the fleet</a>
      </p>
    </AuthShell>
  );
}

export function ErrorPage(props: { now: Date; status: number; message: string }) {
  return (
    <Layout title={props.status === 404 ? 'Not found' : 'Error'} section="none" now={props.now}>
      <h1>
        {props.status === 404
          ? 'Not found'
          : props.status === 400
            ? 'Bad request'
            : props.status === 403
              ? 'Refused'
              : props.status === 503
                ? 'The master is unavailable'
                : 'The master API failed'}
      </h1>
      <p class="error" role="alert">
        {props.message}
      </p>
      <p>
        <a href="/">Back to the fleet</a>
      </p>
    </Layout>
  );
}

// --------------------------------------------------------------------------------------- links and marks

const enc = encodeURIComponent;

export function PartitionLink(props: { id: string }) {
  return <a href={`/partitions/${enc(props.id)}`}>{props.id}</a>;
}

export function TreeLink(props: { id: string }) {
  return <a href={`/trees/${enc(props.id)}`}>{props.id}</a>;
}

export function ComputerLink(props: { id: string }) {
  return <a href={`/computers/${enc(props.id)}`}>{props.id}</a>;
}

/** Characters of a silence's reason shown in tables and banners (the master keeps 1,000). */
export const SILENCE_REASON_SHOWN = 300;
const cut = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** "Notifications silenced": the active silences holding the notifications of this page's subject. */
export function SilenceBanner(props: { silences: Silence[]; what: string; more?: boolean }) {
  if (props.silences.length === 0) return '';
  return (
    <div class="notice" id="silenced" role="status" data-silences={props.silences.map((s) => s.silenceId).join(' ')}>
      <b>🔕 Notifications silenced</b> for this {props.what}: its events are recorded, not sent (colours are unchanged).
      <ul>
        {props.silences.map((s) => (
          <li data-silence={s.silenceId}>
            until {formatTime(s.endsAt)} — {cut(s.reason, SILENCE_REASON_SHOWN)} (<SilenceMatchText silence={s} />, silence{' '}
            <code>{s.silenceId}</code>)
          </li>
        ))}
      </ul>
      {props.more ? <p class="meta">More active silences exist than one page: see the silences page.</p> : ''}
    </div>
  );
}

/** The mark of a partition whose colour keeps changing (flap detection): its colour events are paused. */
export function FlappingMark(props: { flapping: boolean | undefined }) {
  return props.flapping ? (
    <span class="badge orange" data-flapping="true" title="Flapping: its colour keeps changing; colour events are paused until it is stable">
      flapping
    </span>
  ) : (
    ''
  );
}

export function SilenceMatchText(props: { silence: Pick<Silence, 'match'> }) {
  const t = silenceTarget(props.silence);
  if (t.kind === 'computer') return <>computer <ComputerLink id={t.id} /></>;
  if (t.kind === 'partition') return <>partition <PartitionLink id={t.id} /></>;
  return <>tree <TreeLink id={t.id} /></>;
}

