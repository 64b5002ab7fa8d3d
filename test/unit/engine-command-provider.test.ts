import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  checkInputs,
  commandProvider,
  diffInputs,
  LOCAL,
  parseUrn,
  REMOTE,
} from "../../test/engine/command-provider/provider";
import { assertLabAddress, redact } from "../../test/engine/command-provider/exec";
import { SECRET_SIG, SECRET_SIG_VALUE, UNKNOWN } from "../../test/engine/command-provider/wire";

/** The lab stand-in of pulumi-resource-command: its diff rules, its address guard, no secret in its errors. */
const secret = (value: unknown) => ({ [SECRET_SIG]: SECRET_SIG_VALUE, value });
const conn = (host = "10.213.51.11") =>
  secret({ host, port: 22, user: "root", privateKey: "KEY-MATERIAL-1234" });
const urn = (type: string, name: string) => `urn:pulumi:dev::proj::swarm:index:SwarmCluster$${type}::${name}`;
const base = {
  connection: conn(),
  create: "echo hi",
  update: "echo up",
  delete: "echo bye",
  triggers: ["a"],
};

describe("diff", () => {
  it("reports no change when only secretness and outputs differ", () => {
    expect(diffInputs({ ...base, connection: conn(), stdout: "x" }, { ...base })).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  it.each([
    ["create", { create: "echo other" }],
    ["delete", { delete: "echo other" }],
    ["stdin", { stdin: secret("token") }],
    ["environment", { environment: { A: "1" } }],
  ])("a change to %s is an update", (_what, change) => {
    expect(diffInputs(base, { ...base, ...change })).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  it("a change to triggers replaces even with an update command (the 1.2.1 SDK's replaceOnChanges)", () => {
    expect(diffInputs(base, { ...base, triggers: ["b"] }).replaces).toEqual(["triggers"]);
  });

  it("with PULUMI_COMMAND_STANDIN_TRIGGERS=update-if-set, a change to triggers updates when update is set", () => {
    process.env.PULUMI_COMMAND_STANDIN_TRIGGERS = "update-if-set";
    try {
      expect(diffInputs(base, { ...base, triggers: ["b"] })).toEqual({
        changes: true,
        replaces: [],
        deleteBeforeReplace: false,
      });
      expect(
        diffInputs({ ...base, update: undefined }, { ...base, update: undefined, triggers: ["b"] }).replaces,
      ).toEqual(["triggers"]);
    } finally {
      delete process.env.PULUMI_COMMAND_STANDIN_TRIGGERS;
    }
  });

  it("a change to triggers without an update command replaces", () => {
    const noUpdate = { ...base, update: undefined };
    expect(diffInputs(noUpdate, { ...noUpdate, triggers: ["b"] }).replaces).toEqual(["triggers"]);
  });

  it("a change to the connection replaces, create before delete", () => {
    expect(diffInputs(base, { ...base, connection: conn("10.213.51.12") })).toEqual({
      changes: true,
      replaces: ["connection"],
      deleteBeforeReplace: false,
    });
  });

  it("an unknown value during preview counts as a change", () => {
    expect(diffInputs(base, { ...base, create: UNKNOWN }).changes).toBe(true);
  });
});

describe("address guard", () => {
  it.each(["10.213.51.11", "127.0.0.1", "::1", "localhost"])("allows %s", (host) => {
    expect(() => assertLabAddress(host)).not.toThrow();
  });

  it.each(["10.0.0.1", "192.0.2.2", "10.214.0.1", "lab51-1", "example.com"])("refuses %s", (host) => {
    expect(() => assertLabAddress(host)).toThrow(
      `connection.host: received ${JSON.stringify(host)}. This lab stand-in of pulumi-resource-command only dials lab addresses (10.213.0.0/16) and loopback`,
    );
  });

  it("check refuses a non-lab host, a proxy outside the lab and unimplemented fields", () => {
    const inputs = {
      create: "true",
      connection: secret({ host: "10.0.0.1", password: "pw", proxy: { host: "192.0.2.2" } }),
    };
    expect(checkInputs(REMOTE, inputs).map((f) => f.property)).toEqual([
      "connection.password",
      "connection.host",
      "connection.proxy.host",
    ]);
    expect(checkInputs(LOCAL, { create: "true", interpreter: ["/bin/bash"] })).toEqual([
      {
        property: "interpreter",
        reason: "interpreter is not implemented by this lab stand-in of command:local:Command",
      },
    ]);
    expect(checkInputs("command:remote:CopyToRemote", {})).toEqual([
      { property: "", reason: "command:remote:CopyToRemote is not implemented by this lab stand-in" },
    ]);
  });

  it("create refuses a non-lab host before running anything", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "standin-"));
    process.env.PULUMI_COMMAND_STANDIN_JOURNAL = path.join(dir, "journal");
    await expect(
      commandProvider.create!(urn(REMOTE, "x"), { create: "true", connection: conn("10.0.0.1") }),
    ).rejects.toThrow('connection.host: received "10.0.0.1"');
    expect(fs.existsSync(path.join(dir, "journal"))).toBe(false);
  });
});

describe("running", () => {
  it("a local command: stdout with one trailing newline trimmed, stdin piped, journal written", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "standin-"));
    const journal = path.join(dir, "journal");
    process.env.PULUMI_COMMAND_STANDIN_JOURNAL = journal;
    const result = await commandProvider.create!(urn(LOCAL, "echo"), { create: "cat; echo", stdin: "in" });
    expect(result.outs).toEqual({ create: "cat; echo", stdin: "in", stdout: "in", stderr: "" });
    expect(result.id).toMatch(/^echo[0-9a-f]{8}$/);
    expect(fs.readFileSync(journal, "utf8")).toBe(`create\t${LOCAL}\techo\tlocal\n`);
  });

  it("a failing command's error holds its stderr with every secret input redacted", async () => {
    await expect(
      commandProvider.create!(urn(LOCAL, "leak"), {
        create: "cat >&2; exit 3",
        stdin: secret(`${["SWMTKN", "1", "abcdef"].join("-")}\n${["SWMKEY", "1", "123456"].join("-")}`),
      }),
    ).rejects.toThrow(new Error("leak: the create command exited with code 3 on local:\n[secret]"));
  });

  it("logging none withholds the output from the error", async () => {
    await expect(
      commandProvider.create!(urn(LOCAL, "quiet"), { create: "echo oops >&2; exit 1", logging: "none" }),
    ).rejects.toThrow(
      "quiet: the create command exited with code 1 on local (output withheld: logging is not stderr)",
    );
  });

  it("update runs update, else create; delete runs delete only when set", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "standin-"));
    const journal = path.join(dir, "journal");
    process.env.PULUMI_COMMAND_STANDIN_JOURNAL = journal;
    const u1 = await commandProvider.update!(
      "id",
      urn(LOCAL, "a"),
      {},
      { create: "echo c", update: "echo u" },
    );
    const u2 = await commandProvider.update!("id", urn(LOCAL, "a"), {}, { create: "echo c" });
    await commandProvider.delete!("id", urn(LOCAL, "a"), { create: "echo c" });
    await commandProvider.delete!("id", urn(LOCAL, "a"), { create: "echo c", delete: "echo d" });
    expect([u1.outs.stdout, u2.outs.stdout]).toEqual(["u", "c"]);
    expect(
      fs
        .readFileSync(journal, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split("\t")[0]),
    ).toEqual(["update", "update", "delete"]);
  });
});

describe("helpers", () => {
  it("parseUrn reads the type after the parent chain and the name", () => {
    expect(parseUrn(urn(REMOTE, "e2e-init"))).toEqual({ type: REMOTE, name: "e2e-init" });
  });

  it("redact removes whole secrets and each of their lines", () => {
    expect(redact("a KEY-MATERIAL-1234 b line-two c", ["KEY-MATERIAL-1234", "x\nline-two"])).toBe(
      "a [secret] b [secret] c",
    );
  });
});
