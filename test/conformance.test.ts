import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { node22, runSet, scoreLine, startFixture, type Fixture } from '../scripts/conformance-run.js';

// The official MCP conformance suite (server mode) against examples/conformance/server.ts: both
// requirement sets, every scored scenario. A full run of both sets takes about 15 s here.
let fixture: Fixture;
let node: string;

beforeAll(async () => {
  node = node22();
  fixture = await startFixture();
}, 120_000);

afterAll(async () => {
  // The fixture drains on SIGTERM and exits 0.
  expect(await fixture.stop()).toBe(0);
});

describe('the official MCP conformance suite against the fixture', () => {
  it.each(['2025-11-25', '2026-07-28'])('passes every scored scenario of %s', async (requirements) => {
    const result = await runSet(fixture.url, requirements, node, 90_000);
    const { line, failing } = scoreLine(result);
    const scored = result.scenarios.filter((scenario) => scenario.unscored === undefined);
    expect(scored.length, result.output).toBe(requirements === '2025-11-25' ? 30 : 37);
    expect(failing, line).toEqual([]);
  }, 120_000);
});
