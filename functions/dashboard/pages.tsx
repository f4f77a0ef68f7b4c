// The dashboard views. Each takes already-fetched view data and the master's clock and
// returns the page; no I/O here.
import { HistoryChart } from './chart.tsx';
import { worstColour } from '../domain/colours.ts';
import type { BangView, ComputerView, PartitionView, PromisesView, QuotaUseView } from './data.ts';
import { Ago, Badge, Layout, Since, type SummaryData } from './layout.tsx';
import {
  colourCounts,
  countBy,
  formatDuration,
  formatTime,
  groupBy,
  sortBySeverity,
} from './view-model.ts';

const RED_LIST_LIMIT = 100;
/** Rows of the bang log shown (the quota table lists every partition banged today in the bangs read). */
export const BANG_LOG_ROWS = 200;

export function summaryOf(computers: ComputerView[], partitions: PartitionView[]): SummaryData {
  return { computers: colourCounts(computers), partitions: colourCounts(partitions) };
}

const enc = encodeURIComponent;

/** "1 partition", "3 partitions". */
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function PartitionLink(props: { id: string }) {
  return <a href={`/partitions/${enc(props.id)}`}>{props.id}</a>;
}

function TreeLink(props: { id: string }) {
  return <a href={`/trees/${enc(props.id)}`}>{props.id}</a>;
}

// ---------------------------------------------------------------------------------------

export function FleetPage(props: { now: Date; computers: ComputerView[]; partitions: PartitionView[] }) {
  const { now, partitions } = props;
  const computers = sortBySeverity(props.computers, (c) => c.computerId);
  const perComputer = countBy(partitions, (p) => p.computerId);
  const redPerComputer = countBy(
    partitions.filter((p) => p.colour !== 'green'),
    (p) => p.computerId,
  );
  const red = sortBySeverity(
    partitions.filter((p) => p.colour !== 'green'),
    (p) => p.partitionId,
  );
  return (
    <Layout title="Fleet" section="fleet" now={now} summary={summaryOf(props.computers, partitions)}>
      <h1>Fleet</h1>
      <p class="meta">
        {plural(props.computers.length, 'computer')} · {plural(partitions.length, 'partition')} · green: contact &lt; 5 min, orange: &lt;
        1 h, red: older
      </p>
      {computers.length === 0 ? (
        <p class="empty">No computer registered yet.</p>
      ) : (
        <table class="stack" id="computers">
          <thead>
            <tr>
              <th>Status</th>
              <th>Computer</th>
              <th>Last contact</th>
              <th class="num">Partitions</th>
              <th>Agent</th>
            </tr>
          </thead>
          <tbody>
            {computers.map((c) => (
              <tr class={c.colour} data-computer={c.computerId} data-colour={c.colour}>
                <td data-label="Status">
                  <Badge colour={c.colour} title={c.colourReason} /> <Since at={c.colourSince} now={now} />{' '}
                  {c.colourReason ? <span class="reason">{c.colourReason}</span> : ''}
                </td>
                <td data-label="Computer">
                  <a href={`/computers/${enc(c.computerId)}`}>{c.computerId}</a>
                </td>
                <td data-label="Last contact">
                  <Ago at={c.lastContactAt} now={now} />
                </td>
                <td class="num" data-label="Partitions" data-partitions={String(perComputer.get(c.computerId) ?? 0)}>
                  {perComputer.get(c.computerId) ?? 0}
                  {redPerComputer.get(c.computerId) ? (
                    <span class="reason"> ({redPerComputer.get(c.computerId)} failing)</span>
                  ) : (
                    ''
                  )}
                </td>
                <td data-label="Agent">{c.agentVersion ?? '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Failing partitions ({red.length})</h2>
      {red.length === 0 ? (
        <p class="empty">Every partition keeps its promises.</p>
      ) : (
        <>
          <PartitionTable partitions={red.slice(0, RED_LIST_LIMIT)} now={now} id="failing" showTree />
          {red.length > RED_LIST_LIMIT ? (
            <p class="meta">
              … and {red.length - RED_LIST_LIMIT} more: see <a href="/trees">instance trees</a>.
            </p>
          ) : (
            ''
          )}
        </>
      )}
    </Layout>
  );
}

function PartitionTable(props: { partitions: PartitionView[]; now: Date; id?: string; showTree?: boolean }) {
  const { now } = props;
  return (
    <table class="stack partitions" id={props.id}>
      <thead>
        <tr>
          <th>Status</th>
          <th>Partition</th>
          {props.showTree ? <th>Tree</th> : ''}
          <th>Computer</th>
          <th>Last report</th>
          <th>Last bang</th>
          <th>Pending reprocess</th>
        </tr>
      </thead>
      <tbody>
        {props.partitions.map((p) => (
          <tr class={p.colour} data-partition={p.partitionId} data-colour={p.colour}>
            <td data-label="Status">
              <Badge colour={p.colour} /> <Since at={p.colourSince} now={now} />{' '}
              <span class="reason">{p.colourReason}</span>
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
            <td data-label="Computer">{p.computerId}</td>
            <td data-label="Last report">
              <Ago at={p.lastReportAt} now={now} />
              {p.lastReportOk === false ? <span class="reason"> (failed)</span> : ''}
            </td>
            <td data-label="Last bang">
              <Ago at={p.lastBangAt} now={now} />
            </td>
            <td data-label="Pending reprocess" data-reprocess={p.reprocess ? 'pending' : 'none'}>
              {p.reprocess ? (
                <span>
                  <b>pending</b> since <Ago at={p.reprocess.requestedAt} now={now} />
                  {p.reprocess.reason ? <span class="reason"> — {p.reprocess.reason}</span> : ''}
                </span>
              ) : (
                <span class="empty">none</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// ---------------------------------------------------------------------------------------

export function ComputerPage(props: { now: Date; computer: ComputerView; partitions: PartitionView[] }) {
  const { now, computer: c } = props;
  const mine = sortBySeverity(
    props.partitions.filter((p) => p.computerId === c.computerId),
    (p) => p.partitionId,
  );
  return (
    <Layout title={`Computer ${c.computerId}`} section="fleet" now={now}>
      <h1>
        Computer {c.computerId} <Badge colour={c.colour} />
      </h1>
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
      <h2>Partitions ({mine.length})</h2>
      {mine.length ? <PartitionTable partitions={mine} now={now} showTree /> : <p class="empty">None.</p>}
    </Layout>
  );
}

// ---------------------------------------------------------------------------------------

export function TreesPage(props: { now: Date; computers: ComputerView[]; partitions: PartitionView[] }) {
  const { now, partitions } = props;
  const trees = sortBySeverity(
    [...groupBy(partitions, (p) => p.instanceTreeId).entries()].map(([id, list]) => ({
      id,
      list,
      colour: worstColour(list.map((p) => p.colour)),
    })),
    (t) => t.id,
  );
  return (
    <Layout title="Instance trees" section="trees" now={now} summary={summaryOf(props.computers, partitions)}>
      <h1>Instance trees ({trees.length})</h1>
      {trees.length === 0 ? <p class="empty">No partition registered yet.</p> : ''}
      {trees.map((t) => {
        const counts = colourCounts(t.list);
        return (
          <section class="card tree" data-tree={t.id} data-colour={t.colour}>
            <h2>
              <Badge colour={t.colour} /> <TreeLink id={t.id} />{' '}
              <span class="meta">
                {plural(t.list.length, 'partition')}, {counts.red} failing
              </span>
            </h2>
            <PartitionTable partitions={sortBySeverity(t.list, (p) => p.partitionId)} now={now} />
          </section>
        );
      })}
    </Layout>
  );
}

export function TreePage(props: { now: Date; treeId: string; partitions: PartitionView[]; bangs: BangView[] }) {
  const { now, treeId } = props;
  const partitions = sortBySeverity(props.partitions, (p) => p.partitionId);
  const ids = new Set(partitions.map((p) => p.partitionId));
  const bangs = props.bangs.filter((b) => b.instanceTreeId === treeId || ids.has(b.partitionId));
  const colour = worstColour(partitions.map((p) => p.colour));
  return (
    <Layout title={`Tree ${treeId}`} section="trees" now={now}>
      <h1>
        Instance tree {treeId} <Badge colour={colour} />
      </h1>
      <p class="meta">
        {plural(partitions.length, 'partition')} · {partitions.filter((p) => p.reprocess).length} pending reprocess
      </p>
      <PartitionTable partitions={partitions} now={now} id="tree-partitions" />
      <h2>Bangs of this tree ({bangs.length})</h2>
      <BangTable bangs={bangs} now={now} />
    </Layout>
  );
}

// ---------------------------------------------------------------------------------------

export function PartitionPage(props: {
  now: Date;
  partition: PartitionView;
  promises: PromisesView;
  bangs: BangView[];
}) {
  const { now, partition: p, promises } = props;
  const sorted = [...promises.promises].sort(
    (a, b) => Number(b.failed) - Number(a.failed) || a.title.localeCompare(b.title),
  );
  return (
    <Layout title={`Partition ${p.partitionId}`} section="trees" now={now}>
      <h1>
        Partition {p.partitionId} <Badge colour={p.colour} />
      </h1>
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
          <a href={`/computers/${enc(p.computerId)}`}>{p.computerId}</a>
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
        <dd>
          {p.bangsToday ?? '–'} / {p.bangQuotaPerDay ?? '–'}
        </dd>
        <dt>Monitoring crimes</dt>
        <dd>{p.crimes.length ? p.crimes.map((c) => `${c.rule}${c.message ? ` (${c.message})` : ''}`).join('; ') : 'none'}</dd>
      </dl>
      <h2>Promises ({sorted.length})</h2>
      {sorted.length === 0 ? <p class="empty">No promise result reported yet.</p> : ''}
      <div class="promises">
        {sorted.map((pr) => (
          <article class={`promise ${pr.failed ? 'failed' : 'kept'}`} data-promise={pr.title}>
            <h3>
              <Badge colour={pr.failed ? 'red' : 'green'} /> {pr.title}{' '}
              <span class="meta">
                {pr.kind} · {pr.date ? <Ago at={pr.date} now={now} /> : '–'} · {formatDuration(pr.executionTimeMs)}
              </span>
            </h3>
            {pr.message ? <code class="msg">{pr.message}</code> : <span class="empty">(no message)</span>}
            <HistoryChart title={pr.title} history={pr.history} />
          </article>
        ))}
      </div>
      <h2>Recent reports ({promises.instantiations.length})</h2>
      <p class="meta">Instantiation runs (etc/instantiate, then every promise in test mode) and anomaly checks.</p>
      {promises.instantiations.length === 0 ? (
        <p class="empty">None reported.</p>
      ) : (
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
            {promises.instantiations.map((r) => (
              <tr class={r.ok ? 'green' : 'red'}>
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
      )}
      <h2>Bangs sent by this partition ({props.bangs.length})</h2>
      <BangTable bangs={props.bangs} now={now} />
    </Layout>
  );
}

// ---------------------------------------------------------------------------------------

function BangTable(props: { bangs: BangView[]; now: Date; id?: string }) {
  const { now } = props;
  if (props.bangs.length === 0) return <p class="empty">No bang.</p>;
  const bangs = [...props.bangs].sort((a, b) => b.at.localeCompare(a.at)).slice(0, BANG_LOG_ROWS);
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
        {bangs.map((b) => (
          <tr class={b.accepted ? '' : 'orange'} data-bang={b.bangId} data-accepted={String(b.accepted)}>
            <td data-label="Time">
              {formatTime(b.at)} (<Ago at={b.at} now={now} />)
            </td>
            <td data-label="Partition">
              <PartitionLink id={b.partitionId} />
            </td>
            <td data-label="Source">{b.source}</td>
            <td data-label="Message">
              <code class="msg">{b.message}</code>
            </td>
            <td class="num" data-label="Fanned out to">
              {b.fannedOutTo ?? '–'}
            </td>
            <td data-label="Quota">
              {b.accepted ? (
                <span class="badge green">accepted</span>
              ) : (
                <span class="badge orange">rejected: over quota</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function BangsPage(props: { now: Date; bangs: BangView[]; quota: QuotaUseView[] }) {
  const { now, bangs } = props;
  const quotaRows = props.quota
    .filter((q) => q.used > 0)
    .map((q) => ({ id: q.partitionId, used: q.used, quota: q.quotaPerDay }))
    .sort((a, b) => b.used - a.used || a.id.localeCompare(b.id));
  const rejected = bangs.filter((b) => !b.accepted).length;
  return (
    <Layout title="Bangs" section="bangs" now={now}>
      <h1>Bangs</h1>
      <p class="meta">
        {bangs.length > BANG_LOG_ROWS ? `latest ${BANG_LOG_ROWS} of ${bangs.length}` : bangs.length} in the log ·{' '}
        {rejected} rejected by quota · quotas reset at 00:00 UTC
      </p>
      <BangTable bangs={bangs} now={now} id="bang-log" />
      <h2>Quota use today (UTC)</h2>
      <p class="meta">Accepted bangs since 00:00 UTC; a partition not listed has used none.</p>
      {quotaRows.length === 0 ? (
        <p class="empty">No bang today.</p>
      ) : (
        <table class="stack" id="quota">
          <thead>
            <tr>
              <th>Partition</th>
              <th class="num">Accepted today</th>
              <th class="num">Daily quota</th>
            </tr>
          </thead>
          <tbody>
            {quotaRows.map((q) => (
              <tr
                class={q.quota !== undefined && q.used >= q.quota ? 'orange' : ''}
                data-quota-partition={q.id}
                data-used={String(q.used)}
              >
                <td data-label="Partition">
                  <PartitionLink id={q.id} />
                </td>
                <td class="num" data-label="Accepted today">
                  {q.used}
                  {q.quota !== undefined && q.used >= q.quota ? ' (quota reached)' : ''}
                </td>
                <td class="num" data-label="Daily quota">
                  {q.quota ?? '–'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
}

// ---------------------------------------------------------------------------------------

export function CrimesPage(props: { now: Date; partitions: PartitionView[] }) {
  const { now } = props;
  const flagged = props.partitions
    .filter((p) => p.crimes.length > 0)
    .sort((a, b) => a.partitionId.localeCompare(b.partitionId));
  const crimeCount = flagged.reduce((n, p) => n + p.crimes.length, 0);
  return (
    <Layout title="Monitoring crimes" section="crimes" now={now}>
      <h1>Monitoring crimes</h1>
      <p class="meta">
        {plural(flagged.length, 'partition')} flagged ({plural(crimeCount, 'crime')}). Rules: a promise that never passes, instantiation
        over 60 s, every promise at 1-minute periodicity, instantiation that never sleeps.
      </p>
      {flagged.length === 0 ? (
        <p class="empty">No partition flagged.</p>
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
            {flagged.flatMap((p) =>
              p.crimes.map((c) => (
                <tr data-crime-partition={p.partitionId} data-rule={c.rule}>
                  <td data-label="Partition">
                    <PartitionLink id={p.partitionId} /> <Badge colour={p.colour} />
                  </td>
                  <td data-label="Tree">
                    <TreeLink id={p.instanceTreeId} />
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
    </Layout>
  );
}
