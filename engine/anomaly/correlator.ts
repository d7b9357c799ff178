import type { CompiledAnomaly, CompiledModel } from "../../dsl/index.js";
import { type Correlator, entryOf, type Firing } from "../correlate/types.js";
import type { EngineEvent } from "../event.js";
import type { EventDecoder, EventEncoder } from "../snapshot-codec.js";
import { type AnomalyOptions, AnomalyScorer } from "./scorer.js";

/**
 * The engine's face of an `anomaly` rule: the scorer behind the correlator interface. A
 * matched event whose calibrated score compares true with the rule's threshold fires, with
 * the score as the alert's `value` and the model's `by` keys as its keys.
 */
export class AnomalyCorrelator implements Correlator {
  readonly scorer: AnomalyScorer;

  constructor(
    corr: CompiledAnomaly,
    model: CompiledModel,
    private readonly fire: (f: Firing) => void,
    maxKeys: number,
    onEvict: () => void,
    opts: AnomalyOptions = {},
  ) {
    this.scorer = new AnomalyScorer(corr, model, maxKeys, onEvict, opts);
  }

  onMatch(ev: EngineEvent): void {
    const d = this.scorer.observe(ev);
    if (d?.fires === true) this.fire({ at: ev.ts, trigger: ev, keyValues: d.keyValues, keyPaths: d.keyPaths, entries: [entryOf(ev)], value: d.score });
  }

  advance(_watermark: number): void {}

  liveKeys(): number {
    return this.scorer.liveKeys();
  }

  snapshot(enc: EventEncoder): unknown {
    return { keys: this.scorer.snapshot((ev) => enc.ref(ev)) };
  }

  restore(data: unknown, dec: EventDecoder): void {
    this.scorer.restore((data as { keys: unknown }).keys, (i) => dec.get(i));
  }
}
