import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireConversation, WireSearchHit } from '../src/contracts/apps-api.js';
import { searchStatement } from '../src/apps/search.js';
import { searchText } from '../src/apps/search-text.js';
import type { TestPlatform } from './support/platform.js';
import { platformDialects, startDialectPlatform } from './apps/dialect-platform.js';
import { conversation, member, send } from './apps/chat-helpers.js';

describe.each(platformDialects)('web app conversations on %s', (dialect) => {
  let sky: TestPlatform;
  beforeAll(async () => {
    sky = await startDialectPlatform(dialect);
  });
  afterAll(async () => {
    await sky?.close();
  });

  it('lists, renames and deletes a user\'s own conversations, and no one else\'s', async () => {
    const web = await member(sky.url);
    const first = await conversation(web);
    const second = await conversation(web);
    const listed = (await web.json<{ data: WireConversation[] }>('GET', '/api/conversations')).body.data;
    expect(listed.map((c) => c.id).sort()).toEqual([first.id, second.id].sort());
    expect(listed[0]).toMatchObject({ app: 'chat', title: 'New chat' });

    const renamed = await web.json('PATCH', `/api/conversations/${first.id}`, { title: 'Trip planning' });
    expect(renamed.body.title).toBe('Trip planning');
    expect((await web.json('PATCH', `/api/conversations/${first.id}`, { title: '' })).status).toBe(400);

    const stranger = await member(sky.url);
    expect((await stranger.json('GET', `/api/conversations/${first.id}`)).status).toBe(404);
    expect((await stranger.json('DELETE', `/api/conversations/${first.id}`)).status).toBe(404);
    expect((await stranger.json('GET', '/api/conversations')).body.data).toEqual([]);

    expect((await web.json('DELETE', `/api/conversations/${second.id}`)).status).toBe(204);
    expect((await web.json('GET', `/api/conversations/${second.id}`)).status).toBe(404);
    const left = (await web.json<{ data: WireConversation[] }>('GET', '/api/conversations')).body.data;
    expect(left.map((c) => [c.id, c.title])).toEqual([[first.id, 'Trip planning']]);
  });

  it('finds old messages by word, by prefix and by Chinese characters, only the user\'s own', async () => {
    const web = await member(sky.url);
    const old = await conversation(web);
    await send(web, old.id, 'Remember the zanzibar itinerary');
    await web.readStream(old.id);
    const chinese = await conversation(web);
    await send(web, chinese.id, '今天天气很好，我们去公园');
    await web.readStream(chinese.id);
    const search = async (q: string) =>
      (await web.json<{ data: WireSearchHit[] }>('GET', `/api/search?q=${encodeURIComponent(q)}`)).body.data;

    const byWord = await search('ZANZIBAR');
    expect(byWord).toHaveLength(1);
    expect(byWord[0]).toMatchObject({ conversation_id: old.id, role: 'user', conversation_title: 'Remember the zanzibar itinerary' });
    expect(byWord[0]!.snippet).toContain('zanzibar');
    expect(await search('itin')).toHaveLength(1);
    expect((await search('天气'))[0]).toMatchObject({ conversation_id: chinese.id });
    expect(await search('公园 天气')).toHaveLength(1);
    expect(await search('天公')).toEqual([]);
    expect(await search('"*) OR (')).toEqual([]);
    expect(await (await member(sky.url)).json('GET', '/api/search?q=zanzibar').then((r) => r.body.data)).toEqual([]);

    // Deleted conversations leave the index too.
    await web.json('DELETE', `/api/conversations/${old.id}`);
    expect(await search('zanzibar')).toEqual([]);
  });

  it('searches through the full-text index, never a scan of the messages', async () => {
    const db = sky.platform.store.db;
    const web = await member(sky.url);
    const userId = (await web.json('GET', '/api/session')).body.user.id as string;
    const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
    for (let c = 0; c < 30; c++) {
      const { id } = await conversation(web);
      const rows = Array.from({ length: 100 }, (_, i) => {
        const content = `${words[i % 10]} ${words[(i + c) % 10]} message ${c}-${i}${c === 7 && i === 42 ? ' quetzal' : ''}`;
        return {
          conversation_id: id, role: 'user' as const, content, search_text: searchText(content), status: 'complete' as const,
          error_code: null, model: null, prompt_tokens: 0, completion_tokens: 0, created_at: Date.now(),
        };
      });
      await db.insertInto('messages').values(rows).execute();
    }
    if (dialect === 'postgres') await sql`analyze`.execute(db);
    const statement = searchStatement(db, userId, 'quetzal')!;
    const plan = (dialect === 'sqlite'
      ? (await sql<{ detail: string }>`explain query plan ${statement}`.execute(db)).rows.map((r) => r.detail)
      : (await sql<{ 'QUERY PLAN': string }>`explain ${statement}`.execute(db)).rows.map((r) => r['QUERY PLAN'])
    ).join('\n');
    if (dialect === 'sqlite') {
      expect(plan).toMatch(/SCAN messages_fts VIRTUAL TABLE INDEX/);
      expect(plan).not.toMatch(/SCAN (m|c|messages|conversations)\b/);
    } else {
      expect(plan).toMatch(/Bitmap Index Scan on messages_search/);
      expect(plan).not.toMatch(/Seq Scan on messages/);
    }
    const hits = (await web.json<{ data: WireSearchHit[] }>('GET', '/api/search?q=quetzal')).body.data;
    expect(hits.map((h) => h.snippet)).toEqual(['charlie juliet message 7-42 quetzal']);
  });
});
