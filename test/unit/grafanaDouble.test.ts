// The Grafana double, in-process (no Docker), against what Grafana 12.4 does (../shared/docs/telemetry-facts.md,
// "Grafana 12.4 (read from its source…)"): its brute-force login protection (5 failures of a login in a rolling
// 5 minutes refuse it, the right password too; refusals are not counted; a success does not reset the count; the
// admin's password change does), the 401 bodies and the log lines that alone tell a lockout from a wrong password,
// the anonymous Viewer the stack runs with, the dashboard page for any uid, and the dashboards it provisions from the
// files compose mounts. The clock is injected: nothing waits 5 minutes.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from '../support/paths';
import {
  GRAFANA_DOUBLE_VERSION,
  LOGIN_ATTEMPTS_WINDOW_MS,
  startGrafanaDouble,
  type GrafanaDouble,
  type GrafanaDoubleOptions,
} from '../doubles/grafana';

const PASSWORD = 'right-password';
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const TS = /t=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z/;

/** The 401 Grafana answers a wrong password and a lockout alike, anonymous access off. */
const PASSWORD_AUTH_FAILED =
  '{"extra":null,"message":"Invalid username or password","messageId":"password-auth.failed","statusCode":401,"traceID":""}\n';
const WRONG_PASSWORD_ERROR =
  'error="[password-auth.failed] failed to authenticate identity: [password-auth.invalid] invalid password"';
const BLOCKED_ERROR =
  'error="[password-auth.failed] too many consecutive incorrect login attempts for user - login for user temporarily blocked"';
const failedLine = (t: string, error: string): string =>
  `logger=authn.service t=${t} level=info msg="Failed to authenticate request" client=auth.client.basic ${error}`;

class Clock {
  ms = T0;
  now = (): number => this.ms;
  set(offsetMs: number): void {
    this.ms = T0 + offsetMs;
  }
}

interface Running {
  g: GrafanaDouble;
  base: string;
  clock: Clock;
  /** GET `path` with basic auth of `login:password` (none when `password` is undefined). */
  get(path: string, password?: string, login?: string): Promise<Response>;
  /** The authn.service lines logged so far. */
  failures(): string[];
}

async function withGrafana(options: Partial<GrafanaDoubleOptions>, fn: (r: Running) => Promise<void>): Promise<void> {
  const clock = new Clock();
  const g = await startGrafanaDouble({
    port: 0,
    host: '127.0.0.1',
    adminPassword: PASSWORD,
    now: clock.now,
    ...options,
  });
  const base = `http://127.0.0.1:${g.port}`;
  try {
    await fn({
      g,
      base,
      clock,
      get: (p, password, login = 'admin') =>
        fetch(`${base}${p}`, { redirect: 'manual', headers: password === undefined ? {} : auth(login, password) }),
      failures: () => g.logs.filter((l) => l.startsWith('logger=authn.service ')),
    });
  } finally {
    await g.close();
  }
}

const auth = (login: string, password: string): Record<string, string> => ({
  Authorization: `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`,
});

/** The timestamp the double logs at the clock's time (ms precision, trailing zeros dropped, as RFC3339Nano). */
const stamp = (ms: number): string => new Date(ms).toISOString().replace(/\.?0+Z$/, 'Z');

describe('grafana double (Grafana 12.4)', () => {
  test('the version compose pins, and /api/health as Grafana writes it', async () => {
    const compose = fs.readFileSync(path.join(repoRoot, 'stack', 'compose.yaml'), 'utf8');
    assert.equal(/grafana\/grafana:([\w.-]+)/.exec(compose)?.[1], GRAFANA_DOUBLE_VERSION);
    await withGrafana({}, async ({ get, failures }) => {
      const health = await get('/api/health', 'wrong');
      assert.equal(health.status, 200);
      assert.equal(health.headers.get('content-type'), 'application/json; charset=UTF-8');
      assert.equal(
        await health.text(),
        `{\n  "database": "ok",\n  "version": "${GRAFANA_DOUBLE_VERSION}",\n  "commit": "cct-test-double"\n}`,
      );
      assert.deepEqual(failures(), [], 'the health check does not look at basic auth');
    });
  });

  test('logs as Grafana does on start: the admin it creates, then "HTTP Server Listen"', async () => {
    await withGrafana({}, async ({ g }) => {
      assert.deepEqual(g.logs, [
        `logger=sqlstore t=${stamp(T0)} level=info msg="Created default admin" user=admin`,
        `logger=sqlstore t=${stamp(T0)} level=info msg="Created default organization"`,
        `logger=http.server t=${stamp(T0)} level=info msg="HTTP Server Listen" address=127.0.0.1:${g.port} protocol=http subUrl= socket=`,
      ]);
    });
    // The real clock: nanoseconds, trailing zeros dropped.
    const g = await startGrafanaDouble({ port: 0, adminPassword: PASSWORD });
    try {
      assert.match(
        g.logs.at(-1)!,
        new RegExp(
          `^logger=http\\.server ${TS.source} level=info msg="HTTP Server Listen" address=\\[::\\]:${g.port} protocol=http subUrl= socket=$`,
        ),
      );
    } finally {
      await g.close();
    }
  });

  test('5 wrong passwords lock the login: the right one is refused with the same 401, told apart only by the log', async () => {
    await withGrafana({}, async ({ get, clock, failures }) => {
      for (let i = 0; i < 5; i++) {
        clock.set(i * 1000);
        const wrong = await get('/api/user', `wrong-${i}`);
        assert.equal(wrong.status, 401);
        assert.equal(wrong.headers.get('content-type'), 'application/json; charset=UTF-8');
        assert.equal(await wrong.text(), PASSWORD_AUTH_FAILED);
      }
      clock.set(10_000);
      const locked = await get('/api/user', PASSWORD);
      assert.equal(locked.status, 401);
      assert.equal(locked.headers.get('content-type'), 'application/json; charset=UTF-8');
      assert.equal(await locked.text(), PASSWORD_AUTH_FAILED, 'byte for byte what a wrong password gets');
      assert.deepEqual(failures(), [
        ...[0, 1, 2, 3, 4].map((i) => failedLine(stamp(T0 + i * 1000), WRONG_PASSWORD_ERROR)),
        failedLine(stamp(T0 + 10_000), BLOCKED_ERROR),
      ]);
      // The login is matched lower-cased; any route with basic auth signs in (and is refused).
      assert.equal((await get('/api/dashboards/uid/claude-code-telemetry', PASSWORD, 'ADMIN')).status, 401);
      assert.equal(failures().at(-1), failedLine(stamp(T0 + 10_000), BLOCKED_ERROR));
    });
  });

  test('refusals during a lockout are not counted: it ends when the oldest failure is 5 minutes old', async () => {
    await withGrafana({}, async ({ get, clock, failures }) => {
      for (let i = 0; i < 5; i++) {
        clock.set(i * 1000);
        assert.equal((await get('/api/user', 'wrong')).status, 401);
      }
      // A minute later, more tries, wrong and right: refused, and not counted.
      clock.set(60_000);
      for (const password of ['wrong', PASSWORD, 'wrong', PASSWORD, 'wrong'])
        assert.equal((await get('/api/user', password)).status, 401);
      assert.equal(failures().filter((l) => l.endsWith(BLOCKED_ERROR)).length, 5);
      // Grafana counts whole seconds since now - 5 min: the first failure (second 0) still counts at 5:00.678 ...
      clock.set(LOGIN_ATTEMPTS_WINDOW_MS);
      assert.equal((await get('/api/user', PASSWORD)).status, 401);
      // ... and has left the window at 5:01.678: four remain, below the limit (nine, had the refusals counted).
      clock.set(LOGIN_ATTEMPTS_WINDOW_MS + 1000);
      const unlocked = await get('/api/user', PASSWORD);
      assert.equal(unlocked.status, 200);
      assert.equal((await unlocked.json()).login, 'admin');
      // The four failures still in the window and one more lock it again.
      assert.equal((await get('/api/user', 'wrong')).status, 401);
      assert.equal((await get('/api/user', PASSWORD)).status, 401);
      assert.equal(failures().at(-1), failedLine(stamp(T0 + LOGIN_ATTEMPTS_WINDOW_MS + 1000), BLOCKED_ERROR));
    });
  });

  test('a successful sign-in does not reset the count', async () => {
    await withGrafana({}, async ({ get }) => {
      for (let i = 0; i < 4; i++) assert.equal((await get('/api/user', 'wrong')).status, 401);
      assert.equal((await get('/api/user', PASSWORD)).status, 200);
      assert.equal((await get('/api/user', 'wrong')).status, 401);
      assert.equal(
        (await get('/api/user', PASSWORD)).status,
        401,
        'the fifth failure locks it, the success between notwithstanding',
      );
    });
  });

  test("the admin's password change resets that login's count", async () => {
    await withGrafana({}, async ({ base, get, failures }) => {
      for (let i = 0; i < 4; i++) assert.equal((await get('/api/user', 'wrong')).status, 401);
      const change = (password: string, as: string): Promise<Response> =>
        fetch(`${base}/api/admin/users/1/password`, {
          method: 'PUT',
          headers: { ...auth('admin', as), 'Content-Type': 'application/json' },
          body: JSON.stringify({ password }),
        });
      const changed = await change('new-password', PASSWORD);
      assert.equal(changed.status, 200);
      assert.equal(changed.headers.get('content-type'), 'application/json');
      assert.equal(await changed.text(), '{"message":"User password updated"}');
      // Four more failures: eight since the start, none since the reset that counts.
      for (let i = 0; i < 4; i++) assert.equal((await get('/api/user', PASSWORD)).status, 401);
      assert.equal((await get('/api/user', 'new-password')).status, 200);
      assert.equal(failures().filter((l) => l.endsWith(BLOCKED_ERROR)).length, 0);
      // Grafana's password policy (4 characters) and an unknown user: its user update fails, answered 500.
      for (const [id, password] of [
        ['1', 'abc'],
        ['2', 'long-enough'],
      ]) {
        const refused = await fetch(`${base}/api/admin/users/${id}/password`, {
          method: 'PUT',
          headers: auth('admin', 'new-password'),
          body: JSON.stringify({ password }),
        });
        assert.equal(refused.status, 500);
        assert.equal(await refused.text(), '{"message":"Failed to update user password"}');
      }
      const badBody = await fetch(`${base}/api/admin/users/1/password`, {
        method: 'PUT',
        headers: auth('admin', 'new-password'),
        body: 'password',
      });
      assert.equal(badBody.status, 400);
      assert.equal(await badBody.text(), '{"message":"bad request data"}');
    });
  });

  test('the other failures Grafana logs: an unknown login (counted), an empty password (not counted)', async () => {
    await withGrafana({}, async ({ get, failures }) => {
      for (let i = 0; i < 4; i++)
        assert.equal(await (await get('/api/user', '', 'admin')).text(), PASSWORD_AUTH_FAILED);
      assert.equal(
        (await get('/api/user', PASSWORD)).status,
        200,
        'empty passwords are refused before they are counted',
      );
      assert.equal(failures()[0], failedLine(stamp(T0), 'error="[password-auth.failed] no password provided"'));
      assert.equal((await get('/api/user', 'x', 'nobody')).status, 401);
      assert.equal(
        failures().at(-1),
        failedLine(
          stamp(T0),
          'error="[password-auth.failed] failed to authenticate identity: [identity.not-found] no user found: user not found"',
        ),
      );
    });
  });

  test('the login form feeds the same count', async () => {
    await withGrafana({}, async ({ base, get, g }) => {
      const login = (password: string): Promise<Response> =>
        fetch(`${base}/login`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ user: 'admin', password }),
        });
      const wrong = await login('wrong');
      assert.equal(wrong.status, 401);
      assert.equal(
        await wrong.text(),
        '{"statusCode":401,"messageId":"password-auth.failed","message":"Invalid username or password"}',
      );
      assert.match(
        g.logs.at(-1)!,
        /client=auth\.client\.form error="\[password-auth\.failed\] failed to authenticate identity: \[password-auth\.invalid\] invalid password"$/,
      );
      const ok = await login(PASSWORD);
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { message: 'Logged in', redirectUrl: '/' });
      for (let i = 0; i < 4; i++) await get('/api/user', 'wrong');
      assert.equal((await login(PASSWORD)).status, 401);
      assert.match(
        g.logs.at(-1)!,
        /client=auth\.client\.form error="\[password-auth\.failed\] too many consecutive incorrect login attempts for user - login for user temporarily blocked"$/,
      );
    });
  });

  test('anonymous access off: no credentials get 401 on the API and the login page for a page', async () => {
    await withGrafana({}, async ({ get }) => {
      const user = await get('/api/user');
      assert.equal(user.status, 401);
      assert.equal(
        await user.text(),
        '{"extra":null,"message":"Unauthorized","messageId":"auth.unauthorized","statusCode":401,"traceID":""}\n',
      );
      assert.equal((await get('/api/dashboards/uid/claude-code-telemetry')).status, 401);
      for (const page of ['/', '/d/claude-code-telemetry', '/d/claude-code-telemetry/claude-code-telemetry?orgId=1']) {
        const redirected = await get(page);
        assert.equal(redirected.status, 302, page);
        assert.equal(redirected.headers.get('location'), '/login');
      }
      // A wrong password on a page: the same (Grafana's pages never answer 401).
      assert.equal((await get('/d/claude-code-telemetry', 'wrong')).status, 302);
      assert.equal((await get('/login')).status, 200);
      const signedIn = await get('/api/user', PASSWORD);
      assert.equal(signedIn.status, 200);
      assert.equal(signedIn.headers.get('content-type'), 'application/json');
      const body = await signedIn.json();
      assert.deepEqual(Object.keys(body), [
        'id',
        'uid',
        'email',
        'name',
        'login',
        'theme',
        'orgId',
        'isGrafanaAdmin',
        'isDisabled',
        'isExternal',
        'isExternallySynced',
        'isGrafanaAdminExternallySynced',
        'authLabels',
        'updatedAt',
        'createdAt',
        'avatarUrl',
      ]);
      assert.equal(body.id, 1);
      assert.equal(body.login, 'admin');
      assert.equal(body.email, 'admin@localhost');
      assert.equal(body.isGrafanaAdmin, true);
      assert.match(body.uid, /^[a-z][a-z0-9]{13}$/);
      assert.equal(body.createdAt, new Date(T0).toISOString().slice(0, 19) + 'Z');
    });
  });

  test('anonymous access on (as the stack runs it): a failed sign-in is the anonymous Viewer, the log still tells why', async () => {
    await withGrafana({ anonymous: true }, async ({ get, failures }) => {
      const noAuth = await get('/api/user');
      assert.equal(noAuth.status, 401);
      assert.equal(await noAuth.text(), '{"message":"Unauthorized"}\n');
      const wrong = await get('/api/user', 'wrong');
      assert.equal(wrong.status, 401);
      assert.equal(await wrong.text(), '{"message":"Unauthorized"}\n');
      // Viewer routes answer as for anybody.
      assert.equal((await get('/api/dashboards/uid/claude-code-telemetry', 'wrong')).status, 200);
      assert.equal((await get('/d/claude-code-telemetry', 'wrong')).status, 200);
      for (let i = 0; i < 2; i++) await get('/api/user', 'wrong');
      assert.deepEqual(failures(), Array(5).fill(failedLine(stamp(T0), WRONG_PASSWORD_ERROR)));
      const locked = await get('/api/user', PASSWORD);
      assert.equal(locked.status, 401);
      assert.equal(await locked.text(), '{"message":"Unauthorized"}\n', 'the same answer as a wrong password');
      assert.equal(failures().at(-1), failedLine(stamp(T0), BLOCKED_ERROR));
      assert.equal(
        (await get('/api/dashboards/uid/claude-code-telemetry', PASSWORD)).status,
        200,
        'the page still opens, as anonymous',
      );
    });
  });

  test('GET /d/<uid>: the same shell for any uid, naming the uid asked for; the API says whether it exists', async () => {
    await withGrafana({ anonymous: true }, async ({ get }) => {
      for (const [page, uid] of [
        ['/d/claude-code-telemetry', 'claude-code-telemetry'],
        ['/d/claude-code-telemetry/claude-code-telemetry?orgId=1&from=now-24h&to=now', 'claude-code-telemetry'],
        ['/d/no-such-dashboard', 'no-such-dashboard'],
        ['/d/no-such-dashboard/any-slug', 'no-such-dashboard'],
      ]) {
        const response = await get(page);
        assert.equal(response.status, 200, page);
        assert.equal(response.headers.get('content-type'), 'text/html; charset=UTF-8');
        const html = await response.text();
        assert.match(html, new RegExp(`data-dashboard-uid="${uid}"`));
        assert.match(html, /<title>Grafana<\/title>/);
        assert.doesNotMatch(html, /Claude Code Telemetry/, 'the page itself does not know the dashboard');
      }
      const known = await get('/api/dashboards/uid/claude-code-telemetry');
      assert.equal(known.status, 200);
      assert.equal((await known.json()).dashboard.title, 'Claude Code Telemetry');
      const unknown = await get('/api/dashboards/uid/no-such-dashboard');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.headers.get('content-type'), 'application/json');
      assert.equal(await unknown.text(), '{"message":"Dashboard not found"}');
    });
  });

  test("root_url behind a proxy that strips its path: the page's base and the redirects carry the path", async () => {
    // code-server serves a port at /proxy/<port>/ and strips that prefix; Grafana's assets and API calls resolve
    // against <base href>, so without the path they would go to code-server's own root.
    const rootUrl = '%(protocol)s://%(domain)s:%(http_port)s/proxy/3000/';
    await withGrafana({ anonymous: true, rootUrl }, async ({ get }) => {
      assert.match(await (await get('/d/claude-code-telemetry')).text(), /<base href="\/proxy\/3000\/" \/>/);
    });
    await withGrafana({ rootUrl }, async ({ get }) => {
      const page = await get('/d/claude-code-telemetry');
      assert.equal(page.status, 302);
      assert.equal(page.headers.get('location'), '/proxy/3000/login');
    });
    await withGrafana({ anonymous: true }, async ({ get }) => {
      assert.match(await (await get('/d/claude-code-telemetry')).text(), /<base href="\/" \/>/);
    });
  });

  test('the dashboards provisioned from the files compose mounts, as Grafana reads them', async () => {
    // The container's filesystem as compose makes it: each bind of the grafana service, where it mounts it.
    const composeDir = path.join(repoRoot, 'stack');
    const compose = parseYaml(fs.readFileSync(path.join(composeDir, 'compose.yaml'), 'utf8')) as {
      services: { grafana: { volumes: string[] } };
    };
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'grafana-root-'));
    try {
      for (const volume of compose.services.grafana.volumes) {
        const [source, target] = volume.split(':');
        if (!source.startsWith('.')) continue;
        fs.mkdirSync(path.dirname(path.join(root, target)), { recursive: true });
        fs.symlinkSync(path.resolve(composeDir, source), path.join(root, target));
      }
      const expected = fs
        .readdirSync(path.join(composeDir, 'grafana', 'dashboards'))
        .filter((f) => f.endsWith('.json'))
        .map(
          (f) =>
            JSON.parse(fs.readFileSync(path.join(composeDir, 'grafana', 'dashboards', f), 'utf8')) as {
              uid: string;
              title: string;
              panels: unknown[];
            },
        );
      assert.ok(expected.some((d) => d.uid === 'claude-code-telemetry'));
      await withGrafana(
        { anonymous: true, provisioningDir: '/etc/grafana/provisioning', fsRoot: root },
        async ({ get }) => {
          for (const d of expected) {
            const response = await get(`/api/dashboards/uid/${d.uid}`);
            assert.equal(response.status, 200, `${d.uid}: the provider's path is where compose mounts the dashboards`);
            const body = await response.json();
            assert.equal(body.dashboard.title, d.title);
            assert.equal(body.dashboard.uid, d.uid);
            assert.equal(body.dashboard.panels.length, d.panels.length);
            assert.equal(body.meta.provisioned, true);
            assert.equal(body.meta.folderTitle, 'Claude Code');
            assert.equal(body.meta.canSave, false, 'a Viewer');
          }
          assert.equal((await get('/api/dashboards/uid/no-such-dashboard')).status, 404);
        },
      );
      // Without the provisioning files (and no `dashboards`), no dashboard at all.
      await withGrafana(
        { anonymous: true, provisioningDir: '/etc/grafana/provisioning', fsRoot: path.join(root, 'nothing') },
        async ({ get }) => {
          assert.equal((await get('/api/dashboards/uid/claude-code-telemetry')).status, 404);
        },
      );
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
    // The `dashboards` option, for in-process use.
    await withGrafana({ anonymous: true, dashboards: { other: 'Other' } }, async ({ get }) => {
      assert.equal((await get('/api/dashboards/uid/other')).status, 200);
      assert.equal((await get('/api/dashboards/uid/claude-code-telemetry')).status, 404);
    });
  });

  test('the anonymous Viewer may not write: 403 with a new access error id each time', async () => {
    await withGrafana({ anonymous: true }, async ({ base }) => {
      const ids = new Set<string>();
      for (let i = 0; i < 2; i++) {
        const denied = await fetch(`${base}/api/dashboards/db`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ dashboard: { title: 'x' } }),
        });
        assert.equal(denied.status, 403);
        assert.equal(denied.headers.get('content-type'), 'application/json; charset=UTF-8');
        const text = await denied.text();
        assert.match(
          text,
          /^\{"accessErrorId":"ACE\d{10}","message":"You'll need additional permissions to perform this action\. Permissions needed: any of dashboards:create, dashboards:write","title":"Access denied"\}\n$/,
        );
        ids.add(JSON.parse(text).accessErrorId);
      }
      assert.equal(ids.size, 2);
      const password = await fetch(`${base}/api/admin/users/1/password`, {
        method: 'PUT',
        headers: auth('admin', 'wrong'),
        body: JSON.stringify({ password: 'taken-over' }),
      });
      assert.equal(password.status, 403);
      assert.match(await password.text(), /Permissions needed: users\.password:update"/);
    });
  });

  test('an unknown path: 404 as Grafana (JSON under /api, its page elsewhere)', async () => {
    await withGrafana({ anonymous: true }, async ({ get, base }) => {
      for (const p of ['/api/nothing-here', '/api/dashboards/uid/x/y', '/api']) {
        const response = await get(p);
        assert.equal(response.status, 404, p);
        assert.equal(response.headers.get('content-type'), 'application/json; charset=UTF-8');
        assert.equal(await response.text(), '{"message":"Not found"}\n');
      }
      assert.equal((await fetch(`${base}/api/user`, { method: 'DELETE' })).status, 404);
      const page = await get('/no-such-page');
      assert.equal(page.status, 404);
      assert.match(await page.text(), /<title>Grafana<\/title>/);
    });
  });

  test('its database keeps the admin password and the login attempts across a restart', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grafana-double-'));
    try {
      await withGrafana({ dataDir }, async ({ get, g }) => {
        assert.match(g.logs[0], /msg="Created default admin" user=admin$/);
        for (let i = 0; i < 5; i++) await get('/api/user', 'wrong');
      });
      await withGrafana({ dataDir, adminPassword: 'another-password' }, async ({ get, g, clock }) => {
        assert.ok(!g.logs.some((l) => l.includes('Created default admin')), 'an existing database: no admin made');
        assert.equal((await get('/api/user', PASSWORD)).status, 401, 'still locked after the restart');
        clock.set(LOGIN_ATTEMPTS_WINDOW_MS + 1000);
        assert.equal(
          (await get('/api/user', 'another-password')).status,
          401,
          'the variable does not change the password',
        );
        assert.equal((await get('/api/user', PASSWORD)).status, 200);
      });
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('the limit and the protection follow Grafana’s settings', async () => {
    await withGrafana({ bruteForceLoginProtectionMaxAttempts: 0 }, async ({ get }) => {
      assert.equal((await get('/api/user', 'wrong')).status, 401);
      assert.equal((await get('/api/user', PASSWORD)).status, 401, 'a limit of 0 or less is 1');
    });
    await withGrafana({ disableBruteForceLoginProtection: true }, async ({ get }) => {
      for (let i = 0; i < 10; i++) await get('/api/user', 'wrong');
      assert.equal((await get('/api/user', PASSWORD)).status, 200);
    });
  });
});
