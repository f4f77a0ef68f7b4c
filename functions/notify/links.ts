// Dashboard links of events: the page of the thing an event is about (functions/dashboard
// routes). `baseUrl` is the master's public URL (local: http://127.0.0.1:8787; cloud: the
// admin function URL, which serves the dashboard).

export type LinkTarget =
  | { kind: 'computer'; computerId: string }
  | { kind: 'partition'; partitionId: string }
  | { kind: 'tree'; instanceTreeId: string };

export function dashboardLink(baseUrl: string, target: LinkTarget): string {
  const base = baseUrl.replace(/\/+$/, '');
  switch (target.kind) {
    case 'computer':
      return `${base}/computers/${encodeURIComponent(target.computerId)}`;
    case 'partition':
      return `${base}/partitions/${encodeURIComponent(target.partitionId)}`;
    case 'tree':
      return `${base}/trees/${encodeURIComponent(target.instanceTreeId)}`;
  }
}
