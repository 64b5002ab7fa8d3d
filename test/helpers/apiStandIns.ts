/**
 * Stand-ins for Harbor's v2.0 and GitLab's v4 REST APIs on loopback, for contract tests of the
 * scripts the library renders: they record every request and answer with the status codes and
 * bodies the tools document (Harbor's swagger, GitLab's API docs). They prove that the scripts speak
 * that contract (paths, methods, bodies, auth, idempotency, failure handling), not that Harbor or
 * GitLab behave as documented: neither can run on this machine.
 */
import * as http from "http";
import type { AddressInfo } from "net";

/** One request as the stand-in saw it. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** What every stand-in shares: a loopback server, a log, and forced failures. */
abstract class StandIn {
  readonly requests: RecordedRequest[] = [];
  /** Answer every request with this status (e.g. 500, 503) instead of the contract. */
  failWith?: number;
  /** Answer only requests with this method and path (no query) with `status`. */
  failRoute?: { method: string; path: string; status: number };
  private server?: http.Server;
  port = 0;

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        const recorded = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body };
        this.requests.push(recorded);
        const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
          const text = payload === undefined ? "" : JSON.stringify(payload);
          res.writeHead(status, { "Content-Type": "application/json", ...headers });
          res.end(req.method === "HEAD" ? undefined : text);
        };
        if (this.failWith !== undefined) {
          send(this.failWith, this.errorBody(this.failWith));
          return;
        }
        const route = this.failRoute;
        if (route && route.method === recorded.method && route.path === recorded.url.split("?")[0]) {
          send(route.status, this.errorBody(route.status));
          return;
        }
        this.handle(recorded, send);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  protected abstract errorBody(status: number): unknown;
  protected abstract handle(
    req: RecordedRequest,
    send: (status: number, payload?: unknown, headers?: Record<string, string>) => void,
  ): void;
}

interface HarborRobotRecord {
  id: number;
  name: string;
  secret: string;
  body: Record<string, unknown>;
}

/** Harbor v2.0: projects and robot accounts, basic auth as admin. */
export class HarborStandIn extends StandIn {
  readonly projects = new Map<string, { id: number; public: string }>();
  readonly robots: HarborRobotRecord[] = [];

  constructor(private readonly admin: { user: string; password: string }) {
    super();
  }

  protected errorBody(status: number): unknown {
    const code = status === 401 ? "UNAUTHORIZED" : status === 409 ? "CONFLICT" : "UNKNOWN";
    return { errors: [{ code, message: http.STATUS_CODES[status] ?? "error" }] };
  }

  protected handle(
    req: RecordedRequest,
    send: (status: number, payload?: unknown, headers?: Record<string, string>) => void,
  ): void {
    const expected = `Basic ${Buffer.from(`${this.admin.user}:${this.admin.password}`).toString("base64")}`;
    if (req.headers.authorization !== expected) return send(401, this.errorBody(401));
    const url = new URL(req.url, "http://stand-in");
    if (url.pathname === "/api/v2.0/projects" && req.method === "HEAD") {
      return send(this.projects.has(url.searchParams.get("project_name") ?? "") ? 200 : 404);
    }
    if (url.pathname === "/api/v2.0/projects" && req.method === "POST") {
      const body = JSON.parse(req.body) as { project_name?: string; metadata?: { public?: string } };
      if (!body.project_name || req.headers["content-type"] !== "application/json") {
        return send(400, { errors: [{ code: "BAD_REQUEST", message: "invalid project request" }] });
      }
      if (this.projects.has(body.project_name)) {
        return send(409, {
          errors: [{ code: "CONFLICT", message: `The project named ${body.project_name} already exists` }],
        });
      }
      const id = this.projects.size + 1;
      this.projects.set(body.project_name, { id, public: body.metadata?.public ?? "false" });
      return send(201, undefined, { Location: `/api/v2.0/projects/${id}` });
    }
    if (url.pathname === "/api/v2.0/robots" && req.method === "GET") {
      // q=name=<project>+<robot>: exact match on the stored name (Harbor stores "<project>+<name>").
      const q = url.searchParams.get("q") ?? "";
      const wanted = q.startsWith("name=") ? q.slice(5) : undefined;
      const found = this.robots.filter((r) => wanted === undefined || r.name === `robot$${wanted}`);
      return send(
        200,
        found.map((r) => ({
          id: r.id,
          name: r.name,
          level: "project",
          duration: -1,
          disable: false,
          editable: true,
          permissions: r.body.permissions,
        })),
      );
    }
    if (url.pathname === "/api/v2.0/robots" && req.method === "POST") {
      const body = JSON.parse(req.body) as {
        name: string;
        secret?: string;
        level?: string;
        permissions?: { kind: string; namespace: string; access: { resource: string; action: string }[] }[];
      };
      const permission = body.permissions?.[0];
      if (
        body.level !== "project" ||
        !permission ||
        permission.kind !== "project" ||
        !this.projects.has(permission.namespace) ||
        !body.secret ||
        !/^(?=.*[a-z])(?=.*[A-Z])(?=.*\d).{8,128}$/.test(body.secret)
      ) {
        return send(400, { errors: [{ code: "BAD_REQUEST", message: "bad robot request" }] });
      }
      const name = `robot$${permission.namespace}+${body.name}`;
      if (this.robots.some((r) => r.name === name)) {
        return send(409, { errors: [{ code: "CONFLICT", message: `robot ${name} already exists` }] });
      }
      const robot = { id: 10 + this.robots.length, name, secret: body.secret, body };
      this.robots.push(robot);
      return send(201, {
        id: robot.id,
        name,
        secret: body.secret,
        creation_time: "2026-12-02T14:00:00.000Z",
        expires_at: -1,
      });
    }
    const patch = /^\/api\/v2\.0\/robots\/(\d+)$/.exec(url.pathname);
    if (patch && req.method === "PATCH") {
      const robot = this.robots.find((r) => r.id === Number(patch[1]));
      if (!robot) return send(404, { errors: [{ code: "NOT_FOUND", message: "robot not found" }] });
      const body = JSON.parse(req.body) as { secret?: string };
      if (!body.secret) return send(400, { errors: [{ code: "BAD_REQUEST", message: "no secret" }] });
      robot.secret = body.secret;
      return send(200, { secret: body.secret });
    }
    return send(404, { errors: [{ code: "NOT_FOUND", message: `no route ${req.method} ${url.pathname}` }] });
  }
}

interface GitLabHookRecord {
  id: number;
  projectPath: string;
  url: string;
  token?: string;
  body: Record<string, unknown>;
}

/** GitLab v4: project hooks, PRIVATE-TOKEN auth. */
export class GitLabStandIn extends StandIn {
  readonly hooks: GitLabHookRecord[] = [];
  /** Projects that exist, by path. */
  readonly projects = new Set<string>();
  /** Refuse hook URLs in private networks, as GitLab does by default (HTTP 422). */
  blockLocalUrls = false;

  constructor(private readonly token: string) {
    super();
  }

  protected errorBody(status: number): unknown {
    return { message: `${status} ${http.STATUS_CODES[status] ?? "error"}` };
  }

  /** A hook as GitLab's API shows it: id first, the token never. */
  private view(hook: GitLabHookRecord): Record<string, unknown> {
    return {
      id: hook.id,
      url: hook.url,
      name: null,
      created_at: "2026-12-02T14:00:00.000Z",
      push_events: hook.body.push_events ?? true,
      push_events_branch_filter: hook.body.push_events_branch_filter ?? null,
      tag_push_events: hook.body.tag_push_events ?? false,
      merge_requests_events: hook.body.merge_requests_events ?? false,
      enable_ssl_verification: hook.body.enable_ssl_verification ?? true,
      project_id: 1,
      custom_headers: [{ key: "X-Stand-In" }],
      url_variables: [],
    };
  }

  protected handle(
    req: RecordedRequest,
    send: (status: number, payload?: unknown, headers?: Record<string, string>) => void,
  ): void {
    if (req.headers["private-token"] !== this.token) return send(401, { message: "401 Unauthorized" });
    const url = new URL(req.url, "http://stand-in");
    // The project id is the URL-encoded path ("team%2Fweb"), as GitLab documents.
    const match = /^\/api\/v4\/projects\/([^/]+)\/hooks(?:\/(\d+))?$/.exec(url.pathname);
    if (!match) return send(404, { message: "404 Not Found" });
    const project = decodeURIComponent(match[1]);
    if (!this.projects.has(project)) return send(404, { message: "404 Project Not Found" });
    const hookId = match[2] === undefined ? undefined : Number(match[2]);
    if (req.method === "GET" && hookId === undefined) {
      return send(
        200,
        this.hooks.filter((h) => h.projectPath === project).map((h) => this.view(h)),
      );
    }
    const body = req.body ? (JSON.parse(req.body) as Record<string, unknown>) : {};
    if (req.method === "POST" && hookId === undefined) {
      if (typeof body.url !== "string") return send(400, { message: "400 Bad request - url is missing" });
      if (this.blockLocalUrls && /^https?:\/\/(10\.|127\.|192\.168\.)/.test(body.url)) {
        return send(422, { error: "Invalid url given" });
      }
      const hook = {
        id: this.hooks.length + 1,
        projectPath: project,
        url: body.url,
        token: body.token as string | undefined,
        body,
      };
      this.hooks.push(hook);
      return send(201, this.view(hook));
    }
    const hook = this.hooks.find((h) => h.id === hookId && h.projectPath === project);
    if (!hook) return send(404, { message: "404 Not found" });
    if (req.method === "PUT") {
      hook.body = body;
      hook.token = body.token as string | undefined;
      return send(200, this.view(hook));
    }
    return send(405, { message: "405 Method Not Allowed" });
  }
}
