/**
 * Watches the memory of every process this test process started (the Pulumi CLI, its language
 * host and the program it runs, provider plugins), for tests of failures that once made a program
 * grow without bound: records each one's peak resident size and kills (by pid) any that passes
 * `limitMb`, so a regression fails the test instead of taking the machine down.
 */
import * as fs from "fs";

/** What a watch saw. */
export interface ProcessPeaks {
  /** Largest resident size of any one process, MB, and its command line. */
  peakMb: number;
  peakCommand: string;
  /** Largest resident size of the Node.js program run by the language host (cmd/run), MB. */
  programPeakMb: number;
  /** Command lines of the processes killed for passing the limit. */
  killed: string[];
}

function readProc(pid: number): { ppid: number; rssMb: number; command: string } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ppid = Number(fields[1]);
    const rssPages = Number(fields[21]);
    const command = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
    return { ppid, rssMb: (rssPages * 4096) / 2 ** 20, command };
  } catch {
    return undefined; // gone meanwhile
  }
}

/** Starts watching the descendants of this process every `everyMs`; `stop()` returns the peaks. */
export function watchDescendants(limitMb: number, everyMs = 250): { stop(): ProcessPeaks } {
  const peaks: ProcessPeaks = { peakMb: 0, peakCommand: "", programPeakMb: 0, killed: [] };
  const sample = () => {
    const all = new Map<number, { ppid: number; rssMb: number; command: string }>();
    for (const entry of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const info = readProc(Number(entry));
      if (info) all.set(Number(entry), info);
    }
    const isDescendant = (pid: number): boolean => {
      for (let p = all.get(pid)?.ppid, hops = 0; p !== undefined && p > 1 && hops < 64; hops++) {
        if (p === process.pid) return true;
        p = all.get(p)?.ppid;
      }
      return false;
    };
    for (const [pid, info] of all) {
      if (!isDescendant(pid)) continue;
      if (info.rssMb > peaks.peakMb) {
        peaks.peakMb = info.rssMb;
        peaks.peakCommand = info.command.slice(0, 200);
      }
      if (/cmd\/run/.test(info.command)) peaks.programPeakMb = Math.max(peaks.programPeakMb, info.rssMb);
      if (info.rssMb > limitMb) {
        peaks.killed.push(info.command.slice(0, 200));
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
  };
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return {
        ...peaks,
        peakMb: Math.round(peaks.peakMb),
        programPeakMb: Math.round(peaks.programPeakMb),
      };
    },
  };
}
