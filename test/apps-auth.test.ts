import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestPlatform } from './support/platform.js';
import { WebSession } from './support/web-session.js';
import { platformDialects, startDialectPlatform } from './apps/dialect-platform.js';

describe.each(platformDialects)('web app accounts on %s', (dialect) => {
  let sky: TestPlatform;
  beforeAll(async () => {
    sky = await startDialectPlatform(dialect, { SKYLARK_GUEST_DAILY_TOKENS: '1500' });
  });
  afterAll(async () => {
    await sky?.close();
  });

  it('gives a page its CSRF cookie and refuses state changes without the matching header', async () => {
    const web = await WebSession.open(sky.url);
    const csrf = web.lastSetCookies.find((c) => c.startsWith('sky_csrf='))!;
    expect(csrf).toMatch(/SameSite=Strict/i);
    expect(csrf).not.toMatch(/HttpOnly/i); // the page must read it
    const credentials = { username: 'csrf-user', password: 'long enough password' };
    const missing = await web.request('POST', '/api/auth/signup', credentials, { csrf: false });
    expect(missing.status).toBe(403);
    expect((await missing.json()).error.code).toBe('permission_denied');
    const forged = await fetch(`${sky.url}/api/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: `sky_csrf=${web.cookies.get('sky_csrf')}`, 'x-skylark-csrf': 'x'.repeat(32) },
      body: JSON.stringify(credentials),
    });
    expect(forged.status).toBe(403);
    expect((await web.json('POST', '/api/auth/signup', credentials)).status).toBe(201);
  });

  it('signs up with a hashed password and a hashed, httpOnly, SameSite session', async () => {
    const web = await WebSession.open(sky.url);
    const { status, body } = await web.json('POST', '/api/auth/signup', { username: 'Alice', password: 'correct horse battery' });
    expect(status).toBe(201);
    expect(body.user).toMatchObject({ username: 'alice', kind: 'member' });
    const cookie = web.lastSetCookies.find((c) => c.startsWith('sky_session='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\/api/i);
    expect(cookie).not.toMatch(/Secure/i); // plain http here; https sets Secure
    const token = web.cookies.get('sky_session')!;
    const db = sky.platform.store.db;
    const user = await db.selectFrom('end_users').selectAll().where('username', '=', 'alice').executeTakeFirstOrThrow();
    expect(user.password_hash).toMatch(/^scrypt\$32768\$8\$3\$/);
    expect(user.password_hash).not.toContain('correct horse');
    const sessions = await db.selectFrom('end_user_sessions').select('id').where('end_user_id', '=', user.id).execute();
    expect(sessions.map((s) => s.id)).toEqual([createHash('sha256').update(token).digest('hex')]);
    expect((await web.json('GET', '/api/session')).body.user.username).toBe('alice');

    const again = await (await WebSession.open(sky.url)).json('POST', '/api/auth/signup', { username: 'ALICE', password: 'another password' });
    expect(again.status).toBe(400);
    expect(again.body.error.param).toBe('username');
  });

  it('signs out for good: the old cookie no longer works', async () => {
    const web = await WebSession.open(sky.url);
    await web.signUp('bob');
    const token = web.cookies.get('sky_session')!;
    expect((await web.json('POST', '/api/auth/signout')).status).toBe(204);
    expect(web.cookies.has('sky_session')).toBe(false);
    const replay = await fetch(`${sky.url}/api/session`, { headers: { cookie: `sky_session=${token}` } });
    expect((await replay.json()).user).toBeNull();
    const signedIn = await web.json('POST', '/api/auth/signin', { username: 'bob', password: 'correct horse battery' });
    expect(signedIn.status).toBe(200);
    expect((await web.json('GET', '/api/session')).body.user.username).toBe('bob');
  });

  it('limits failed sign-ins per address and username with 429 and Retry-After', async () => {
    const web = await WebSession.open(sky.url);
    await web.signUp('carol');
    const attempt = (username: string, password: string) => web.json('POST', '/api/auth/signin', { username, password });
    for (let i = 0; i < 5; i++) expect((await attempt('carol', 'wrong password!')).status).toBe(401);
    const refused = await attempt('carol', 'correct horse battery');
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limit_exceeded');
    expect(Number(refused.response.headers.get('retry-after'))).toBeGreaterThan(800);
    // Another account from the same address is not locked out by carol's attacker.
    await (await WebSession.open(sky.url)).signUp('dave');
    expect((await attempt('dave', 'correct horse battery')).status).toBe(200);
  });

  it('lets a guest chat on a small quota, not make apps, and keep their chats on signing up', async () => {
    const web = await WebSession.open(sky.url);
    expect((await web.json('GET', '/api/conversations')).status).toBe(401);
    const guest = await web.json('POST', '/api/auth/guest');
    expect(guest.status).toBe(201);
    expect(guest.body.user.kind).toBe('guest');
    const quota = await web.json('GET', '/api/apps/chat/quota');
    expect(quota.body).toMatchObject({ limit: 1500, used: 0 });
    const made = await web.json('POST', '/api/apps', { name: 'Nope' });
    expect(made.status).toBe(403);
    const conversation = await web.json('POST', '/api/conversations', { app: 'chat' });
    expect(conversation.status).toBe(201);
    await web.signUp('erin');
    expect((await web.json('GET', '/api/session')).body.user).toMatchObject({ username: 'erin', kind: 'member' });
    expect((await web.json('GET', '/api/conversations')).body.data.map((c: { id: string }) => c.id)).toEqual([conversation.body.id]);
  });
});
