// The dashboard views. Each takes already-fetched view data (one API page of each list, see
// paging.ts) and the master's clock and returns the page; no I/O here. Texts that can be
// long (bang messages, promise messages in lists) are cut to their end in tables, so a
// page's size is bounded by its page size × the longest row.
import { HistoryChart } from './chart.tsx';
import type { BangView, ComputerView, Page, PartitionView, PromisesView, PromiseView, TreeView } from './data.ts';
import { Ago, Badge, ComputerLink, FlappingMark, Layout, PartitionLink, SilenceBanner, Since, TreeLink } from './layout.tsx';
import type { SilencedView } from './data.ts';
import {
  type ColourFilter,
  clip,
  FLEET_FAILING_ROWS,
  type ListParams,
  type PageSizes,
  type PagerLinks,
  pagerLinks,
  TABLE_SIZES,
} from './paging.ts';
import type { SummaryState } from './layout.tsx';
import { formatDuration, formatTime } from './view-model.ts';

/** Characters of a bang message shown in a bang table (the master keeps 5,000). */
export const BANG_MESSAGE_SHOWN = 500;
/** Characters of a colour reason / reprocess reason shown in a partitions table (whole on the partition's page). */
export const TABLE_REASON_SHOWN = 300;
/** Promises of a partition shown with their history chart (failing first); the others in a compact table. */
export const PROMISE_CHARTS = 20;
/** Rows of that compact table (a partition may report up to 1,000 promises). */
export const PROMISE_ROWS = 200;
/** Characters of a promise message in the compact table and in a chart point's tooltip. */
export const PROMISE_MESSAGE_SHORT = 120;
/** Characters of a promise message on its card (the master keeps 5,000). */
export const PROMISE_MESSAGE_SHOWN = 2000;

const enc = encodeURIComponent;

// --------------------------------------------------------------------------------------- paging UI

/** "Rows 101–200 · First page · Next page → · Rows per page: 50 100 200". */
export function Pager(props: { links: PagerLinks; noun: string; id?: string }) {
  const { links } = props;
  return (
    <nav class="pager" aria-label={`Pages of ${props.noun}`} data-list={props.id ?? props.noun}>
      <span class="rows" data-shown={String(links.shown)}>
        {links.shown === 0 ? `no ${props.noun}` : links.from && links.to ? `${props.noun} ${links.from}–${links.to}` : `${links.shown} ${props.noun}`}
      </span>
      {links.first ? (
        <a href={links.first} rel="first" data-goto="first">
          « First page
        </a>
      ) : (
        ''
      )}
      {links.next ? (
        <a href={links.next} rel="next" data-goto="next">
          Next page »
        </a>
      ) : (
        <span class="meta" data-goto="last">
          last page
        </span>
      )}
      {links.sizes.length > 1 ? (
        <span class="sizes">
          per page:{' '}
          {links.sizes.map((s) =>
            s.current ? (
              <b aria-current="true">{s.limit}</b>
            ) : (
              <a href={s.href} data-per-page={String(s.limit)}>
                {s.limit}
              </a>
            ),
          )}
        </span>
      ) : (
        ''
      )}
    </nav>
  );
}

const COLOUR_WORDS: Record<ColourFilter, string> = { green: 'OK (green)', orange: 'late (orange)', red: 'failing (red)' };

/**
 * A GET form of a list's filters (works without JavaScript); submitting starts at the first
 * page and keeps the page size. `fields` are the id filters offered.
 */
export function FilterForm(props: {
  action: string;
  params: ListParams;
  colours?: readonly ColourFilter[];
  fields?: readonly ('tree' | 'computer' | 'partition')[];
  clearHref?: string;
}) {
  const { params: p } = props;
  const label = { tree: 'Instance tree', computer: 'Computer', partition: 'Partition' } as const;
  const active = Boolean(p.colour || p.tree || p.computer || p.partition);
  return (
    <form class="filters" method="get" action={props.action} aria-label="Filters">
      {props.colours ? (
        <label>
          Colour{' '}
          <select name="colour">
            <option value="">any</option>
            {props.colours.map((c) => (
              <option value={c} selected={p.colour === c}>
                {COLOUR_WORDS[c]}
              </option>
            ))}
          </select>
        </label>
      ) : (
        ''
      )}
      {(props.fields ?? []).map((f) => (
        <label>
          {label[f]} <input type="text" name={f} value={p[f] ?? ''} size={14} maxlength={128} spellcheck={false} autocomplete="off" />
        </label>
      ))}
      <input type="hidden" name="limit" value={String(p.limit)} />
      <button type="submit">Filter</button>
      {active ? <a href={props.clearHref ?? props.action}>clear filters</a> : ''}
    </form>
  );
}

/** Search by exact id: the server answers with the page of that id (or says it has none). */
export function SearchForm(props: { action: string; placeholder: string; value?: string }) {
  return (
    <form class="search" method="get" action={props.action} aria-label="Search by id">
      <input type="search" name="q" value={props.value ?? ''} placeholder={props.placeholder} aria-label={props.placeholder} size={30} maxlength={128} spellcheck={false} autocomplete="off" />
      <button type="submit">Go</button>
    </form>
  );
}

function Notice(props: { text?: string }) {
  return props.text ? (
    <p class="notice" role="status">
      {props.text}
    </p>
  ) : (
    ''
  );
}

const pager = (path: string, p: ListParams, sizes: PageSizes, page: Page<unknown>) => pagerLinks(path, p, sizes, page.items.length, page.nextCursor);

/** The query string of the partitions list with these filters. */
export function partitionsHref(filters: { colour?: ColourFilter; tree?: string; computer?: string }): string {
  const q = new URLSearchParams();
  if (filters.colour) q.set('colour', filters.colour);
  if (filters.tree) q.set('tree', filters.tree);
  if (filters.computer) q.set('computer', filters.computer);
  const s = q.toString();
  return s ? `/partitions?${s}` : '/partitions';
}

// --------------------------------------------------------------------------------------- fleet

export function FleetPage(props: {
  now: Date;
  summary: SummaryState;
  params: ListParams;
  computers: Page<ComputerView>;
  failing: Page<PartitionView>;
  search?: string;
  notice?: string;
}) {
  const { now, params: p, computers } = props;
  const links = pager('/', p, TABLE_SIZES.computers, computers);
  return (
    <Layout title="Fleet" section="fleet" now={now} summary={props.summary}>
      <h1>Fleet</h1>
      <Notice text={props.notice} />
      <div class="toolbar">
        <FilterForm action="/" params={p} colours={['green', 'orange', 'red']} />
        <SearchForm action="/" placeholder="computer, partition or tree id" value={props.search} />
      </div>
      <p class="meta">
        Computers{p.colour ? ` (${COLOUR_WORDS[p.colour]} only)` : ''}, by id · green: contact &lt; 5 min, orange: &lt; 1 h, red: older
      </p>
      {computers.items.length === 0 ? (
        <p class="empty">{p.colour || p.cursor ? 'No computer on this page.' : 'No computer registered yet.'}</p>
      ) : (
        <table class="stack" id="computers">
          <thead>
            <tr>
              <th>Status</th>
              <th>Computer</th>
              <th>Last contact</th>
              <th>Partitions</th>
              <th>Agent</th>
            </tr>
          </thead>
          <tbody>
            {computers.items.map((c) => (
              <tr class={c.colour} data-computer={c.computerId} data-colour={c.colour}>
                <td data-label="Status">
                  <Badge colour={c.colour} /> <Since at={c.colourSince} now={now} />{' '}
                  {c.colourReason ? <span class="reason">{c.colourReason}</span> : ''}
                </td>
                <td data-label="Computer">
                  <ComputerLink id={c.computerId} />
                </td>
                <td data-label="Last contact">
                  <Ago at={c.lastContactAt} now={now} />
                </td>
                <td data-label="Partitions">
                  <a href={partitionsHref({ computer: c.computerId, colour: 'red' })} data-failing-of={c.computerId}>
                    failing
                  </a>
                </td>
                <td data-label="Agent">{c.agentVersion ? clip(c.agentVersion, 60) : '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager links={links} noun="computers" />
      <h2>Failing partitions</h2>
      {props.failing.items.length === 0 ? (
        <p class="empty">Every partition keeps its promises.</p>
      ) : (
        <>
          <PartitionTable partitions={props.failing.items} now={now} id="failing" showTree showComputer />
          <p class="meta">
            {props.failing.nextCursor ? `The first ${FLEET_FAILING_ROWS}: ` : ''}
            <a href={partitionsHref({ colour: 'red' })} data-all-failing>
              all failing partitions
            </a>
          </p>
        </>
      )}
    </Layout>
  );
}

// --------------------------------------------------------------------------------------- partitions

function ReprocessCell(props: { p: PartitionView; now: Date }) {
  const { p, now } = props;
  return (
    <td data-label="Pending reprocess" data-reprocess={p.reprocess ? 'pending' : 'none'}>
      {p.reprocess ? (
        <span>
          <b>pending</b> since <Ago at={p.reprocess.requestedAt} now={now} />
          {p.reprocess.reason ? <span class="reason"> — {clip(p.reprocess.reason, TABLE_REASON_SHOWN)}</span> : ''}
        </span>
      ) : (
        <span class="empty">none</span>
      )}
    </td>
  );
}

export function PartitionTable(props: { partitions: PartitionView[]; now: Date; id?: string; showTree?: boolean; showComputer?: boolean }) {
  const { now } = props;
  return (
    <table class="stack partitions" id={props.id}>
      <thead>
        <tr>
          <th>Status</th>
          <th>Partition</th>
          {props.showTree ? <th>Tree</th> : ''}
          {props.showComputer ? <th>Computer</th> : ''}
          <th>Last report</th>
          <th>Last bang</th>
          <th>Pending reprocess</th>
        </tr>
      </thead>
      <tbody>
        {props.partitions.map((p) => (
          <tr class={p.colour} data-partition={p.partitionId} data-colour={p.colour}>
            <td data-label="Status">
              <Badge colour={p.colour} /> <FlappingMark flapping={p.flapping} /> <Since at={p.colourSince} now={now} />{' '}
              <span class="reason">{clip(p.colourReason, TABLE_REASON_SHOWN)}</span>
            </td>
            <td data-label="Partition">
              <PartitionLink id={p.partitionId} />
              <div class="meta">{p.softwareReleaseId}</div>
            </td>
            {props.showTree ? (
              <td data-label="Tree">
                <TreeLink id={p.instanceTreeId} />
              </td>
            ) : (
              ''
            )}
            {props.showComputer ? (
              <td data-label="Computer">
                <ComputerLink id={p.computerId} />
              </td>
            ) : (
              ''
            )}
            <td data-label="Last report">
              <Ago at={p.lastReportAt} now={now} />
              {p.lastReportOk === false ? <span class="reason"> (failed)</span> : ''}
            </td>
            <td data-label="Last bang">
              <Ago at={p.lastBangAt} now={now} />
            </td>
            <ReprocessCell p={p} now={now} />
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** `/partitions` (and `/trees`): every partition of the fleet, paged, filtered by colour / tree / computer. */
export function PartitionsPage(props: { now: Date; summary: SummaryState; params: ListParams; partitions: Page<PartitionView>; search?: string; notice?: string }) {
  const { now, params: p, partitions } = props;
  const what = [p.colour ? COLOUR_WORDS[p.colour] : '', p.tree ? `of tree ${p.tree}` : '', p.computer ? `on computer ${p.computer}` : ''].filter(Boolean).join(', ');
  return (
    <Layout title="Partitions" section="partitions" now={now} summary={props.summary}>
      <h1>Partitions</h1>
      <Notice text={props.notice} />
      <div class="toolbar">
        <FilterForm action="/partitions" params={p} colours={['green', 'red']} fields={['tree', 'computer']} />
        <SearchForm action="/partitions" placeholder="partition, tree or computer id" value={props.search} />
      </div>
      <p class="meta">
        {what ? `Only partitions ${what}` : 'Every partition'}
        {p.colour === 'red' ? ' (recorded red: a partition that turned red by time alone joins at the next sweep, within a minute)' : ''}.{' '}
        {p.tree ? (
          <>
            The tree's page: <TreeLink id={p.tree} />
          </>
        ) : (
          ''
        )}
      </p>
      {partitions.items.length === 0 ? (
        <p class="empty">No partition{what ? ` ${what}` : ''} on this page.</p>
      ) : (
        <PartitionTable partitions={partitions.items} now={now} id="partitions" showTree showComputer />
      )}
      <Pager links={pager('/partitions', p, TABLE_SIZES.partitions, partitions)} noun="partitions" />
    </Layout>
  );
}

// --------------------------------------------------------------------------------------- computer

export function ComputerPage(props: { now: Date; computer: ComputerView; params: ListParams; partitions: Page<PartitionView>; silenced?: SilencedView }) {
  const { now, computer: c, params: p, partitions } = props;
  const path = `/computers/${enc(c.computerId)}`;
  return (
    <Layout title={`Computer ${c.computerId}`} section="fleet" now={now}>
      <h1>
        Computer {c.computerId} <Badge colour={c.colour} />
      </h1>
      <SilenceBanner silences={props.silenced?.silences ?? []} what="computer and its partitions" more={props.silenced?.more} />
      <dl class="kv card">
        <dt>Status</dt>
        <dd>
          {c.colourReason || '–'} <Since at={c.colourSince} now={now} />
        </dd>
        <dt>Last contact</dt>
        <dd>
          <Ago at={c.lastContactAt} now={now} /> ({formatTime(c.lastContactAt)})
        </dd>
        <dt>Agent</dt>
        <dd>{c.agentVersion ?? '–'}</dd>
        <dt>Instantiation frequency</dt>
        <dd>{c.instantiationFrequencySeconds !== undefined ? `${c.instantiationFrequencySeconds} s` : '–'}</dd>
      </dl>
      <h2>Partitions</h2>
      <FilterForm action={path} params={p} colours={['green', 'red']} />
      {partitions.items.length ? <PartitionTable partitions={partitions.items} now={now} id="computer-partitions" showTree /> : <p class="empty">None{p.colour ? ` ${p.colour}` : ''}.</p>}
      <Pager links={pager(path, p, TABLE_SIZES.partitions, partitions)} noun="partitions" />
    </Layout>
  );
}

// --------------------------------------------------------------------------------------- tree

export function TreePage(props: { now: Date; tree: TreeView; params: ListParams; bangs: BangView[]; bangsScanned: number; silenced?: SilencedView }) {
  const { now, tree, params: p } = props;
  const path = `/trees/${enc(tree.instanceTreeId)}`;
  const rows = tree.partitions.items;
  return (
    <Layout title={`Tree ${tree.instanceTreeId}`} section="partitions" now={now}>
      <h1>
        Instance tree {tree.instanceTreeId} <Badge colour={tree.colour} />
      </h1>
      <SilenceBanner silences={props.silenced?.silences ?? []} what="tree" more={props.silenced?.more} />
      <p id="tree-reason">
        <span class="reason">{tree.colourReason}</span>
      </p>
      <p class="meta">
        <a href={partitionsHref({ tree: tree.instanceTreeId, colour: 'red' })}>failing partitions of this tree</a> ·{' '}
        {rows.filter((r) => r.reprocess).length} pending reprocess on this page
      </p>
      <PartitionTable partitions={rows} now={now} id="tree-partitions" showComputer />
      <Pager links={pager(path, p, TABLE_SIZES.partitions, tree.partitions)} noun="partitions" />
      <h2>Bangs of this tree ({props.bangs.length})</h2>
      <p class="meta">
        Among the latest {props.bangsScanned} bangs of the fleet; each partition's own bangs are on its page, all of them in the{' '}
        <a href="/bangs">bang log</a>.
      </p>
      <BangTable bangs={props.bangs} now={now} />
    </Layout>
  );
}

// --------------------------------------------------------------------------------------- partition

function PartitionInfo(props: { p: PartitionView; now: Date }) {
  const { p, now } = props;
  return (
    <dl class="kv card" id="partition-info">
      <dt>Status</dt>
      <dd>
        <span id="colour-reason">{p.colourReason || '–'}</span> <Since at={p.colourSince} now={now} />
      </dd>
      <dt>Instance tree</dt>
      <dd>
        <TreeLink id={p.instanceTreeId} />
      </dd>
      <dt>Computer</dt>
      <dd>
        <ComputerLink id={p.computerId} />
      </dd>
      <dt>Software release</dt>
      <dd>{p.softwareReleaseId}</dd>
      <dt>Last report</dt>
      <dd>
        <Ago at={p.lastReportAt} now={now} />
      </dd>
      <dt>Last bang</dt>
      <dd>
        <Ago at={p.lastBangAt} now={now} />
      </dd>
      <dt>Pending reprocess</dt>
      <dd data-reprocess={p.reprocess ? 'pending' : 'none'}>
        {p.reprocess ? (
          <>
            pending since <Ago at={p.reprocess.requestedAt} now={now} /> {p.reprocess.reason}
          </>
        ) : (
          'none'
        )}
      </dd>
      <dt>Bang quota today</dt>
      <dd data-quota-used={String(p.bangsToday ?? '')} data-quota={String(p.bangQuotaPerDay ?? '')}>
        {p.bangsToday ?? '–'} / {p.bangQuotaPerDay ?? '–'} (UTC day)
        {p.bangsToday !== undefined && p.bangQuotaPerDay !== undefined && p.bangsToday >= p.bangQuotaPerDay ? ' — quota reached' : ''}
      </dd>
      <dt>Monitoring crimes</dt>
      <dd>{p.crimes.length ? p.crimes.map((c) => `${c.rule}${c.message ? ` (${c.message})` : ''}`).join('; ') : 'none'}</dd>
    </dl>
  );
}

function PromiseCards(props: { promises: PromiseView[]; now: Date }) {
  const { now } = props;
  return (
    <div class="promises">
      {props.promises.map((pr) => (
        <article class={`promise ${pr.failed ? 'failed' : 'kept'}`} data-promise={pr.title}>
          <h3>
            <Badge colour={pr.failed ? 'red' : 'green'} /> {pr.title}{' '}
            <span class="meta">
              {pr.kind} · {pr.date ? <Ago at={pr.date} now={now} /> : '–'} · {formatDuration(pr.executionTimeMs)}
            </span>
          </h3>
          {pr.message ? <code class="msg">{clip(pr.message, PROMISE_MESSAGE_SHOWN)}</code> : <span class="empty">(no message)</span>}
          <HistoryChart title={pr.title} history={pr.history} messageChars={PROMISE_MESSAGE_SHORT} />
        </article>
      ))}
    </div>
  );
}

function PromiseRows(props: { promises: PromiseView[]; now: Date }) {
  const { now } = props;
  return (
    <table class="stack" id="more-promises">
      <thead>
        <tr>
          <th>Status</th>
          <th>Promise</th>
          <th>Latest</th>
          <th>Message</th>
        </tr>
      </thead>
      <tbody>
        {props.promises.map((pr) => (
          <tr class={pr.failed ? 'red' : ''} data-promise-row={pr.title}>
            <td data-label="Status">
              <Badge colour={pr.failed ? 'red' : 'green'} />
            </td>
            <td data-label="Promise">{pr.title}</td>
            <td data-label="Latest">
              {pr.date ? <Ago at={pr.date} now={now} /> : '–'} · {formatDuration(pr.executionTimeMs)}
            </td>
            <td data-label="Message">{pr.message ? <code class="msg">{clip(pr.message, PROMISE_MESSAGE_SHORT)}</code> : ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ReportsTable(props: { reports: PromisesView['instantiations']; now: Date }) {
  const { now } = props;
  return (
    <table class="stack" id="instantiations">
      <thead>
        <tr>
          <th>Started</th>
          <th>Kind</th>
          <th class="num">Duration</th>
          <th>Result</th>
        </tr>
      </thead>
      <tbody>
        {props.reports.map((r) => (
          <tr class={r.ok ? 'green' : 'red'} data-report={r.reportId ?? ''}>
            <td data-label="Started">
              {formatTime(r.startedAt)} (<Ago at={r.startedAt} now={now} />)
            </td>
            <td data-label="Kind">{r.kind}</td>
            <td class="num" data-label="Duration">
              {formatDuration(r.durationMs)}
            </td>
            <td data-label="Result">
              <Badge colour={r.ok ? 'green' : 'red'} /> {r.error ? <code class="msg">{r.error}</code> : ''}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function PartitionPage(props: {
  now: Date;
  partition: PartitionView;
  promises: PromisesView & { nextCursor: string | null };
  params: ListParams;
  bangs: Page<BangView>;
  silenced?: SilencedView;
}) {
  const { now, partition: p, promises, params } = props;
  const path = `/partitions/${enc(p.partitionId)}`;
  const sorted = [...promises.promises].sort((a, b) => Number(b.failed) - Number(a.failed) || a.title.localeCompare(b.title));
  const charted = sorted.slice(0, PROMISE_CHARTS);
  const listed = sorted.slice(PROMISE_CHARTS, PROMISE_CHARTS + PROMISE_ROWS);
  const hidden = sorted.length - charted.length - listed.length;
  const reports = pagerLinks(path, params, TABLE_SIZES.reports, promises.instantiations.length, promises.nextCursor);
  return (
    <Layout title={`Partition ${p.partitionId}`} section="partitions" now={now}>
      <h1>
        Partition {p.partitionId} <Badge colour={p.colour} /> <FlappingMark flapping={p.flapping} />
      </h1>
      <SilenceBanner silences={props.silenced?.silences ?? []} what="partition" more={props.silenced?.more} />
      <PartitionInfo p={p} now={now} />
      <p class="meta">
        <a href={`/events?partition=${enc(p.partitionId)}`}>Notification events of this partition</a>
      </p>
      <h2>Promises ({sorted.length})</h2>
      <p class="meta">
        The latest result of each promise; the charts show its results in the reports listed below
        {params.cursor ? ' (an older page of reports)' : ''}.
      </p>
      {sorted.length === 0 ? <p class="empty">No promise result reported yet.</p> : ''}
      <PromiseCards promises={charted} now={now} />
      {listed.length ? <PromiseRows promises={listed} now={now} /> : ''}
      {hidden > 0 ? (
        <p class="meta">
          … and {hidden} more kept promises (all of them: <code>GET /v1/partitions/{p.partitionId}/promises</code>).
        </p>
      ) : (
        ''
      )}
      <h2>Reports</h2>
      <p class="meta">Instantiation runs (etc/instantiate, then every promise in test mode) and anomaly checks, newest first.</p>
      {promises.instantiations.length === 0 ? <p class="empty">None on this page.</p> : <ReportsTable reports={promises.instantiations} now={now} />}
      <Pager links={reports} noun="reports" id="reports" />
      <h2>Bangs sent by this partition</h2>
      <BangTable bangs={props.bangs.items} now={now} />
      {props.bangs.nextCursor ? (
        <p class="meta">
          The latest {props.bangs.items.length}: <a href={`/bangs?partition=${enc(p.partitionId)}`}>all bangs of this partition</a>
        </p>
      ) : (
        ''
      )}
    </Layout>
  );
}

// --------------------------------------------------------------------------------------- bangs

function BangTable(props: { bangs: BangView[]; now: Date; id?: string }) {
  const { now } = props;
  if (props.bangs.length === 0) return <p class="empty">No bang.</p>;
  return (
    <table class="stack" id={props.id}>
      <thead>
        <tr>
          <th>Time</th>
          <th>Partition</th>
          <th>Source</th>
          <th>Message</th>
          <th class="num">Fanned out to</th>
          <th>Quota</th>
        </tr>
      </thead>
      <tbody>
        {props.bangs.map((b) => (
          <tr class={b.accepted ? '' : 'orange'} data-bang={b.bangId} data-accepted={String(b.accepted)}>
            <td data-label="Time">
              {formatTime(b.at)} (<Ago at={b.at} now={now} />)
            </td>
            <td data-label="Partition">
              <PartitionLink id={b.partitionId} />
            </td>
            <td data-label="Source">{b.source}</td>
            <td data-label="Message">
              <code class="msg">{clip(b.message, BANG_MESSAGE_SHOWN)}</code>
            </td>
            <td class="num" data-label="Fanned out to">
              {b.fannedOutTo ?? '–'}
            </td>
            <td data-label="Quota">
              {b.accepted ? <span class="badge green">accepted</span> : <span class="badge orange">rejected: over quota</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function BangsPage(props: { now: Date; params: ListParams; bangs: Page<BangView>; partition?: PartitionView }) {
  const { now, params: p, bangs, partition } = props;
  const rejected = bangs.items.filter((b) => !b.accepted).length;
  return (
    <Layout title="Bangs" section="bangs" now={now}>
      <h1>Bangs{p.partition ? ` of ${p.partition}` : ''}</h1>
      <FilterForm action="/bangs" params={p} fields={['partition']} />
      <p class="meta">
        Newest first · {rejected} rejected by quota on this page · quotas reset at 00:00 UTC
        {p.partition ? '' : "; a partition's quota use today is on its page (filter by partition to see it here)"}
      </p>
      {partition ? (
        <p id="quota" data-quota-partition={partition.partitionId} data-used={String(partition.bangsToday ?? '')}>
          <PartitionLink id={partition.partitionId} /> <Badge colour={partition.colour} />: {partition.bangsToday ?? '–'} of its{' '}
          {partition.bangQuotaPerDay ?? '–'} bangs a day used today (UTC)
          {partition.bangsToday !== undefined && partition.bangQuotaPerDay !== undefined && partition.bangsToday >= partition.bangQuotaPerDay
            ? ' (quota reached)'
            : ''}
        </p>
      ) : (
        ''
      )}
      <BangTable bangs={bangs.items} now={now} id="bang-log" />
      <Pager links={pager('/bangs', p, TABLE_SIZES.bangs, bangs)} noun="bangs" />
    </Layout>
  );
}

// --------------------------------------------------------------------------------------- crimes

export function CrimesPage(props: { now: Date; params: ListParams; partitions: Page<PartitionView> }) {
  const { now, params: p, partitions } = props;
  const flagged = partitions.items.filter((x) => x.crimes.length > 0);
  return (
    <Layout title="Monitoring crimes" section="crimes" now={now}>
      <h1>Monitoring crimes</h1>
      <p class="meta">
        Partitions flagged. Rules: a promise that never passes, instantiation over 60 s, every promise at 1-minute periodicity,
        instantiation that never sleeps.
      </p>
      {flagged.length === 0 ? (
        <p class="empty">{p.cursor ? 'No partition flagged on this page.' : 'No partition flagged.'}</p>
      ) : (
        <table class="stack" id="crimes">
          <thead>
            <tr>
              <th>Partition</th>
              <th>Tree</th>
              <th>Rule</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {flagged.flatMap((x) =>
              x.crimes.map((c) => (
                <tr data-crime-partition={x.partitionId} data-rule={c.rule}>
                  <td data-label="Partition">
                    <PartitionLink id={x.partitionId} /> <Badge colour={x.colour} />
                  </td>
                  <td data-label="Tree">
                    <TreeLink id={x.instanceTreeId} />
                  </td>
                  <td data-label="Rule">
                    <b>{c.rule}</b>
                  </td>
                  <td data-label="Detail">{c.message || '–'}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      )}
      <Pager links={pager('/crimes', p, TABLE_SIZES.crimes, partitions)} noun="partitions" />
    </Layout>
  );
}
