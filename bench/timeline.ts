/**
 * Where an engine operation's time goes, from the engine's own event stream (the Automation API's
 * `onEvent`: a `resourcePreEvent` when a step starts, `resOutputsEvent` when it ends). Each event
 * is stamped when it arrives in this process, so spans are on one clock with the operation's start.
 */
import type { EngineEvent } from "@pulumi/pulumi/automation";

/** One resource step: offsets from the operation's start, in seconds. */
export interface Span {
  /** The resource's name (last part of its URN). */
  name: string;
  /** The resource's type token. */
  type: string;
  op: string;
  start: number;
  end: number;
}

/** The operation as phases: engine start, the resource steps, the finish; plus every span. */
export interface Timeline {
  /** From the operation's start to the first step (CLI start, plugins, program, checks). */
  beforeFirstStep: number;
  /** From the first step's start to the last step's end. */
  steps: number;
  /** From the last step's end to the operation's end (state write, CLI exit). */
  afterLastStep: number;
  spans: Span[];
}

/** Collects step events of one operation; `stamp` is the clock (epoch ms), injectable for tests. */
export class TimelineRecorder {
  private readonly started = new Map<string, { op: string; type: string; at: number }>();
  private readonly spans: Span[] = [];

  constructor(private readonly stamp: () => number = Date.now) {}

  /** For `EngineStack.onEvent`. */
  readonly onEvent = (event: EngineEvent): void => {
    const now = this.stamp();
    if (event.resourcePreEvent) {
      const { urn, op, type } = event.resourcePreEvent.metadata;
      this.started.set(urn, { op, type, at: now });
    } else if (event.resOutputsEvent) {
      const { urn } = event.resOutputsEvent.metadata;
      const start = this.started.get(urn);
      if (start)
        this.spans.push({
          name: urn.split("::").pop() ?? urn,
          type: start.type,
          op: start.op,
          start: start.at,
          end: now,
        });
    }
  };

  /**
   * The phases of the operation that started at `originMs` (epoch ms) and took `totalSeconds`.
   * Custom resources only (the stack and the components span everything).
   */
  timeline(originMs: number, totalSeconds: number): Timeline {
    const spans = this.spans
      .filter((s) => s.op !== "same" && s.type !== "pulumi:pulumi:Stack" && !s.type.startsWith("swarm:"))
      .map((s) => ({ ...s, start: (s.start - originMs) / 1000, end: (s.end - originMs) / 1000 }))
      .sort((a, b) => a.start - b.start);
    return summarize(spans, totalSeconds);
  }
}

/** Splits an operation into before / steps / after from its spans (sorted or not). */
export function summarize(spans: Span[], totalSeconds: number): Timeline {
  const round = (n: number) => Math.round(n * 100) / 100;
  if (spans.length === 0) return { beforeFirstStep: round(totalSeconds), steps: 0, afterLastStep: 0, spans };
  const first = Math.min(...spans.map((s) => s.start));
  const last = Math.max(...spans.map((s) => s.end));
  return {
    beforeFirstStep: round(first),
    steps: round(last - first),
    afterLastStep: round(Math.max(0, totalSeconds - last)),
    spans: spans.map((s) => ({ ...s, start: round(s.start), end: round(s.end) })),
  };
}

/** A text waterfall of the spans (one line each: start, duration, op, name), for reading by eye. */
export function waterfall(t: Timeline): string {
  return t.spans
    .map(
      (s) =>
        `${s.start.toFixed(2).padStart(6)} +${(s.end - s.start).toFixed(2).padStart(5)}  ${s.op.padEnd(7)} ${s.name}`,
    )
    .join("\n");
}
