// The dashboard over the in-memory paged API (test/helpers/fake-api.ts), logged in: for the
// dashboard's unit tests (pages, paging, sizes) without a master.
import { expect } from 'vitest';
import { createDashboard } from '../../functions/dashboard/index.tsx';
import { createSessions } from '../../functions/dashboard/sessions.ts';
import type { SessionRecord } from '../../functions/store/types.ts';
import type { FetchLike } from '../../protocol/client.ts';
import { createFakeApi, type FakeApi, type FakeFleet } from './fake-api.ts';

export const FAKE_NOW = new Date('2025-11-25T12:00:00.000Z');
export const FAKE_ADMIN = 'fake-admin-token';

export interface Dash {
  api: FakeApi;
  get(path: string): Promise<{ status: number; location: string | null; html: string; bytes: number }>;
}

export async function dashboardOver(fleet: FakeFleet, wrap: (f: FetchLike) => FetchLike = (f) => f, now: Date = FAKE_NOW): Promise<Dash> {
  const api = createFakeApi(fleet);
  const items = new Map<string, SessionRecord>();
  const store = {
    createSession: async (s: SessionRecord) => void items.set(s.sessionKey, s),
    getSession: async (k: string) => items.get(k) ?? null,
    deleteSession: async (k: string) => void items.delete(k),
  };
  const dash = createDashboard({ adminToken: () => FAKE_ADMIN, now: () => now, api: wrap(api.fetch), sessions: createSessions({ store, now: () => now }) });
  const login = await dash.request('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: FAKE_ADMIN, next: '/' }).toString(),
  });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  expect(cookie).toMatch(/^vigil_session=/);
  return {
    api,
    async get(path) {
      const res = await dash.request(path, { headers: { cookie } });
      const html = await res.text();
      return { status: res.status, location: res.headers.get('location'), html, bytes: Buffer.byteLength(html) };
    },
  };
}

export const unescapeHtml = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
export const nextHref = (html: string, pager = '') => {
  const nav = pager ? html.slice(html.indexOf(`data-list="${pager}"`)) : html;
  const m = nav.match(/<a href="([^"]+)" rel="next" data-goto="next">/);
  return m ? unescapeHtml(m[1]!) : null;
};
export const ids = (html: string, attr: string) => [...html.matchAll(new RegExp(`<tr[^>]* ${attr}="([^"]+)"`, 'g'))].map((m) => m[1]!);

/** Follows "Next page" from `path`; the rows of every page (checked ≤ limit). */
export async function crawl(d: Dash, path: string, attr: string, limit: number, pager = ''): Promise<string[][]> {
  const pages: string[][] = [];
  let href: string | null = path;
  while (href) {
    const r = await d.get(href);
    expect(r.status, href).toBe(200);
    const rows = ids(r.html, attr);
    expect(rows.length, href).toBeLessThanOrEqual(limit);
    pages.push(rows);
    href = nextHref(r.html, pager);
    expect(pages.length).toBeLessThan(200);
  }
  return pages;
}

