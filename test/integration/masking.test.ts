/**
 * Card numbers, national identifiers and secrets are masked wherever Vigil stores or forwards
 * them: evidence events frozen on incidents, the audit log, SIEM and webhook bodies.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { EvidenceRecorder } from "../../connectors/responders/evidence.js";
import { openStore, type SqlIncidentStore } from "../../connectors/store/index.js";
import { makeAlert } from "../support/store-suite.js";

const CARD = "4111 1111 1111 1111"; // a Luhn-valid test card number
let store: SqlIncidentStore;
beforeAll(async () => void (store = await openStore({ databaseUrl: "memory://" })), 120_000);
afterAll(async () => store.close());

test("the audit log keeps a masked copy of what it is given, and still verifies", async () => {
  await store.audit.append({ kind: "user", id: "alice" }, "incident.comment", "inc-1", { text: `customer pasted ${CARD}`, password: "hunter2" });
  const [e] = await store.audit.list(0, 10);
  const text = JSON.stringify(e?.details);
  expect(text).not.toContain(CARD);
  expect(text).not.toContain("4111111111111111");
  expect(text).toContain("1111"); // the last four digits stay, to recognise the card
  expect(text).not.toContain("hunter2");
  expect((await store.audit.verify()).ok).toBe(true);
});

test("evidence events are frozen on the incident masked", async () => {
  const alert = makeAlert({ evidence: { event_ids: ["pay-1"], origins: ["api:1"], truncated: 0 } });
  await store.write([alert], []);
  const rec = new EvidenceRecorder(store);
  rec.observe({ id: "pay-1", ts: Date.parse(alert.fired_at), seq: 1, fields: { "payload.outbound": `{"card":"${CARD}"}`, "http.request.headers.authorization": "Bearer abc", "user.name": "bob" } });
  await rec.write([alert]);
  await rec.close();
  const incidents = await store.listIncidents({}, 10, null);
  const detail = await store.getIncident(incidents.items[0]!.id);
  const frozen = JSON.stringify(detail?.events);
  expect(detail?.events.map((e) => e.id)).toEqual(["pay-1"]);
  expect(frozen).not.toContain(CARD);
  expect(frozen).not.toContain("Bearer abc");
  expect(frozen).toContain("bob");
});
