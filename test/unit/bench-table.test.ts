import {
  LabFigure,
  markdown,
  opCell,
  OpFigure,
  parseSizes,
  targetLines,
  userProjectSection,
  UserProjectFigure,
} from "../../bench/table";
import { summarize, TimelineRecorder, waterfall } from "../../bench/timeline";

const op = (seconds: number, changes: Record<string, number> = {}, ok = true): OpFigure => ({
  ok,
  seconds,
  automationSeconds: seconds + 2,
  changes,
  enginePeakMB: 400,
  load1: 1.5,
  timeline: summarize(
    [{ name: "c-init", type: "command:remote:Command", op: "create", start: 2, end: seconds - 1 }],
    seconds,
  ),
});

const size = (managers: number, workers: number, up: number, bound: number, fast: number): LabFigure => ({
  managers,
  workers,
  labId: 171,
  hostsBootSeconds: 5,
  bound: { seconds: bound, init: 1, managerJoins: managers > 1 ? [1.1, 1.2] : [], workerJoins: 1.5 },
  up: op(up, { create: 24 }),
  noChangeUp: op(fast),
  preview: op(fast - 0.5),
  labelUp: op(4, { update: 1 }),
  destroy: op(9, { delete: 24 }),
  ratio: Math.round((up / bound) * 100) / 100,
  readBack: { up: "ok", labelUp: "ok", destroy: "ok" },
  slowestSteps: [],
  memory: { programPeakMB: 250, labHostsMB: 600, availableBeforeMB: 20000, availableLowestMB: 19000 },
});

describe("benchmark table (bench/table.ts)", () => {
  it("parses --sizes and refuses anything but managers+workers pairs, naming the bad part", () => {
    expect(parseSizes("1+2, 3+12")).toEqual([
      [1, 2],
      [3, 12],
    ]);
    expect(() => parseSizes("3+2,5x20")).toThrow(
      '--sizes wants managers+workers pairs like 1+2,3+2,3+12; got "5x20"',
    );
  });

  it("a cell shows the seconds, and the changes in bold only when they are not what the step should show", () => {
    expect(opCell(op(2.5), {})).toBe("2.5");
    expect(opCell(op(2.5, { update: 3 }), {})).toBe("2.5 (**update 3**)");
    expect(opCell(op(4, { update: 1 }), { update: 1 })).toBe("4");
    expect(opCell(op(7, {}, false), "any")).toBe("**failed** after 7");
  });

  it("one row per size with the ratio, the phases of up, the load and the memory; the targets checked", () => {
    const md = markdown({
      when: "2026-12-02T14:00:00Z",
      machine: "2 cores",
      pulumi: "pulumi CLI v3.248.0",
      loadBefore: "1 / 1 / 1",
      loadAfter: "2 / 1 / 1",
      lab: [size(3, 2, 7, 5, 2.5), size(3, 12, 12, 8, 3.5)],
      mocks: [],
    });
    const rows = md.split("\n").filter((l) => /^\| 3 \+ /.test(l));
    expect(rows).toHaveLength(2);
    const cells = rows[0].split("|").map((c) => c.trim());
    // size, bound (parts), up, ratio, phases, up via Automation API, no-change up, preview, label up, destroy, resources, load, engine, program, hosts
    expect(cells.slice(1, -1)).toEqual([
      "3 + 2",
      "5 (1 / 1.1 + 1.2 / 1.5)",
      "7",
      "1.4",
      "2 / 4 / 1",
      "9",
      "2.5",
      "2",
      "4",
      "9",
      "24",
      "1.5",
      "400",
      "250",
      "600",
    ]);
    expect(md).toContain("- 3+2 `up` within 1.5x of its bound: x1.4, met.");
    expect(md).toContain("- 3+12 `up` within 1.5x of 3+2's: x1.71, **not met**.");
    expect(md).toContain("- 3+2 no-change `up` 2.5 s and `preview` 2 s under 3 s: met.");
  });

  it("checks 5+20 against 6 s, and says nothing for sizes that were not run", () => {
    expect(targetLines([size(5, 20, 30, 20, 6.5)])).toEqual([
      "- 5+20 no-change `up` 6.5 s and `preview` 6 s under 6 s: **not met**.",
    ]);
    expect(targetLines([])).toEqual([]);
  });
});

describe("a user's project (bench/table.ts userProjectSection)", () => {
  const user: UserProjectFigure = {
    managers: 3,
    workers: 2,
    prepareSeconds: 41.2,
    up: op(12.5, { create: 30 }),
    typeChecked: { noChangeUp: { ...op(7.1), enginePeakMB: 900 }, preview: op(6.9) },
    transpileOnly: { noChangeUp: op(3.4), preview: { ...op(3.3, { update: 1 }), enginePeakMB: 450 } },
    destroy: op(8.2, { delete: 30 }),
  };

  it("one row per size: each operation beside the inline program's figure, odd changes in bold, memory of both modes", () => {
    const rows = userProjectSection([user], [size(3, 2, 9.5, 3.4, 2.6)]).filter((l) => /^\| 3 \+ 2/.test(l));
    expect(rows).toHaveLength(1);
    const cells = rows[0].split("|").map((c) => c.trim());
    expect(cells.slice(1, -1)).toEqual([
      "3 + 2",
      "12.5 (9.5)",
      "7.1 / 3.4 (2.6)",
      "6.9 / 3.3 (**update 1**) (2.1)",
      "8.2 (9)",
      "900 / 450",
      "41.2",
    ]);
  });

  it("is part of the markdown only when measured, and a failed one says so", () => {
    const base = { when: "t", machine: "m", pulumi: "p", loadBefore: "0", loadAfter: "0", mocks: [] };
    const lab = [size(3, 2, 9.5, 3.4, 2.6)];
    expect(markdown({ ...base, lab })).not.toContain("A user's `pulumi up`");
    expect(markdown({ ...base, lab, userProject: [user] })).toContain("## A user's `pulumi up`");
    expect(markdown({ ...base, lab, userProjectSkipped: "npm pack failed" })).toContain(
      "**A user's project was not measured: npm pack failed.**",
    );
  });
});

describe("engine timeline (bench/timeline.ts)", () => {
  it("pairs each step's start and end events into spans on one clock, leaving out the stack and components", () => {
    let now = 1000;
    const rec = new TimelineRecorder(() => now);
    const meta = (urn: string, type: string, o = "create") => ({ metadata: { urn, type, op: o } });
    const at = (ms: number, event: object) => {
      now = 1000 + ms;
      rec.onEvent({ sequence: 0, timestamp: 0, ...event } as never);
    };
    at(500, { resourcePreEvent: meta("urn:pulumi:s::p::pulumi:pulumi:Stack::p-s", "pulumi:pulumi:Stack") });
    at(1500, {
      resourcePreEvent: meta("urn:pulumi:s::p::command:remote:Command::c-init", "command:remote:Command"),
    });
    at(2000, {
      resourcePreEvent: meta("urn:pulumi:s::p::swarm:cluster:SwarmCluster::c", "swarm:cluster:SwarmCluster"),
    });
    at(4000, {
      resOutputsEvent: meta("urn:pulumi:s::p::command:remote:Command::c-init", "command:remote:Command"),
    });
    at(4500, {
      resOutputsEvent: meta("urn:pulumi:s::p::swarm:cluster:SwarmCluster::c", "swarm:cluster:SwarmCluster"),
    });
    at(5000, { resOutputsEvent: meta("urn:pulumi:s::p::pulumi:pulumi:Stack::p-s", "pulumi:pulumi:Stack") });
    const t = rec.timeline(1000, 6);
    expect(t).toEqual({
      beforeFirstStep: 1.5,
      steps: 2.5,
      afterLastStep: 2,
      spans: [{ name: "c-init", type: "command:remote:Command", op: "create", start: 1.5, end: 4 }],
    });
    expect(waterfall(t)).toBe("  1.50 + 2.50  create  c-init");
  });

  it("an operation without steps is all engine time", () => {
    expect(summarize([], 3.21)).toEqual({ beforeFirstStep: 3.21, steps: 0, afterLastStep: 0, spans: [] });
  });
});
