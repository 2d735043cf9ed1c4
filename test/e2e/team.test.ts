/**
 * A team in code-server (issue 24's done-when): two developers' real Claude Code CLIs report through the collector
 * gateway, each with their own token, into the real three-node Cortex (stack/team, on loopback: test/support/
 * teamStack.ts). In a code-server window set up as a teammate's (the gateway, the team's store and tenant in the
 * settings), the developer sets their token with *Set Collector Headers…*; the status bar then shows their own cost
 * today, and its tooltip the team's. Set another developer's token, and the window is theirs; the sidebar's Team section
 * ranks the team's developers, projects and models, theirs marked.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { escapeRegExp } from '../support/regexp';
import { startTeamStack, TEAM_TENANT, type TeamStack } from '../support/teamStack';
import {
  closeWorkbench,
  ensureVsix,
  hoverStatusBarItem,
  installCodeServer,
  openWorkbench,
  runCommand,
  runCommandWithInput,
  screenshot,
  startCodeServer,
  waitForFrameText,
  waitForStatusBarText,
  type CodeServer,
  type Workbench,
} from '../support/e2e/codeServer';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';

describe(
  'a team in code-server: mine beside the team, from the real distributed store',
  { timeout: 10 * 60_000 },
  () => {
    let team: TeamStack | undefined;
    let server: CodeServer | undefined;
    let workbench: Workbench | undefined;
    /** What each developer's CLI said it spent. */
    const spent = new Map<string, number>();

    const page = (): Page => {
      assert.ok(workbench, 'the workbench did not open');
      return workbench.page;
    };
    const usd = (n: number): string => `$${n.toFixed(2)}`;

    before(async () => {
      const [codeServer, vsix, stack] = await Promise.all([
        installCodeServer(),
        ensureVsix(),
        startTeamStack([ALICE, BOB]),
      ]);
      team = stack;
      await team.loadRules();
      const workspace = mkdtempSync(join(tmpdir(), 'cct-e2e-team-'));
      writeFileSync(join(workspace, 'README.md'), "# a teammate's project\n");
      // What a team hands a developer: the gateway, the store and the tenant. The token is theirs to set.
      server = await startCodeServer({
        codeServer,
        vsix,
        workspace,
        settings: {
          'claudeTelemetry.terminal.endpoint': team.gateway.url,
          'claudeTelemetry.backend.prometheusUrl': `${team.nodes[0]!.url}/prometheus`,
          'claudeTelemetry.backend.lokiUrl': `http://127.0.0.1:${team.loki.port}`,
          'claudeTelemetry.backend.tenantId': TEAM_TENANT,
        },
      });
      workbench = await openWorkbench(server.url);
    });
    after(async () => {
      if (workbench) await closeWorkbench(workbench, 'e2e-team-99-final');
      await server?.stop();
      await team?.stop();
    });

    it('two developers report through the gateway with their own tokens', async () => {
      assert.ok(team);
      for (const [developer, inputTokens] of [
        [ALICE, 40_000],
        [BOB, 90_000],
      ] as const) {
        spent.set(developer, await team.runClaude(developer, { inputTokens }));
      }
      assert.notEqual(usd(spent.get(ALICE)!), usd(spent.get(BOB)!), 'two costs the status bar tells apart');
    });

    for (const developer of [ALICE, BOB])
      it(`${developer} sets their token: the status bar is their cost today, its tooltip the team's`, async () => {
        const p = page();
        await runCommandWithInput(
          p,
          'Claude Telemetry: Set Collector Headers…',
          `authorization=Bearer ${team!.tokenOf(developer)}`,
        );
        const mine = usd(spent.get(developer)!);
        const text = await waitForStatusBarText(p, new RegExp(`${escapeRegExp(mine)}(?![\\d])`), 90_000);
        const teamUsd = usd([...spent.values()].reduce((a, b) => a + b, 0));
        const hover = await hoverStatusBarItem(p, new RegExp(escapeRegExp(mine)), /The team:/);
        const tooltip = await hover.innerText();
        assert.match(
          tooltip,
          new RegExp(`Today, you \\(${escapeRegExp(developer)}\\): ${escapeRegExp(mine)}`),
          tooltip,
        );
        assert.match(tooltip, new RegExp(`The team: ${escapeRegExp(teamUsd)}`), tooltip);
        console.log(`# e2e: ${developer}: status bar "${text}", team ${teamUsd}`);
        await screenshot(p, `e2e-team-${developer.split('@')[0]}`);
      });

    it("the sidebar's Team section ranks the team's developers, projects and models, the developer's own row marked", async () => {
      const p = page();
      await runCommand(p, 'Claude Telemetry: Show Dashboard');
      const row = (name: string, cost: number): string => `${escapeRegExp(name)}\\s+${escapeRegExp(usd(cost))}`;
      // Bob's token is the window's now; he spent more.
      const { text } = await waitForFrameText(
        p,
        new RegExp(
          `Team\\s+Developer\\s+Cost\\s+Share\\s+${row(`${BOB} (you)`, spent.get(BOB)!)}[^\\n]*\\n${row(ALICE, spent.get(ALICE)!)}` +
            `[\\s\\S]*?Project\\s+Cost\\s+Share\\s+${row('team-project', spent.get(ALICE)! + spent.get(BOB)!)}[\\s\\S]*?Model\\s+Cost\\s+Share`,
        ),
        90_000,
      );
      console.log(`# e2e: the Team section: ${JSON.stringify(text)}`);
      await screenshot(p, 'e2e-team-sidebar');
    });
  },
);
