import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { REPO_DIR } from '../../src/stack/context.ts';
import { sandboxEnv } from '../support/pipeline-process.ts';
import { testPipelineConfig, writeConfigFile } from '../support/pipeline.ts';
import { getTestStack } from '../support/stack.ts';
import { useTestSandbox } from '../sandbox/sandbox-helpers.ts';

// `shopforce org check` against the emulated org: all clear as it comes, then one line per gap an
// administrator could leave (flags removed from external id fields, CDC off, a field made read-only).
describe('shopforce org check', () => {
  const org = useTestSandbox();
  let dir: string;
  let configFile: string;
  let env: Record<string, string>;

  before(async () => {
    const config = testPipelineConfig(await getTestStack(), sandboxEnv(org.t), (c) => { c.observability.accessToken = 'org-check-token-0123456789'; });
    dir = mkdtempSync(join(tmpdir(), 'shopforce-org-check-'));
    configFile = join(dir, 'shopforce.json');
    env = writeConfigFile(configFile, config);
  });

  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  function orgCheck(): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, ['bin/shopforce.js', 'org', 'check', '--config', configFile], {
        cwd: REPO_DIR, encoding: 'utf8', env: { ...process.env, ...sandboxEnv(org.t), ...env, LOG_LEVEL: 'warn' },
      }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    });
  }

  test('an org set up as the README says passes; each gap an administrator leaves is one clear line and exit code 1', async () => {
    const clear = await orgCheck();
    assert.equal(clear.code, 0, clear.stdout + clear.stderr);
    assert.match(clear.stdout, /has what the enabled flows need: .*Account.*Contact/);

    const admin = org.t.sb.admin;
    try {
      admin.setField({ object: 'Contact', field: 'Shop_Customer_Id__c', externalId: false });
      admin.setField({ object: 'Product2', field: 'Sku__c', unique: false });
      admin.setChangeDataCapture({ object: 'Opportunity', enabled: false });
      admin.setField({ object: 'OpportunityLineItem', field: 'Shop_Line_Id__c', updateable: false });
      const gaps = await orgCheck();
      assert.equal(gaps.code, 1, gaps.stdout + gaps.stderr);
      const lines = gaps.stdout.trim().split('\n');
      assert.match(lines[0]!, /lacks 4 thing\(s\)/);
      assert.match(gaps.stdout, /^ {2}Contact\.Shop_Customer_Id__c: the field is not marked External ID; upserts by it are refused \(flow customer/m);
      assert.match(gaps.stdout, /^ {2}Product2\.Sku__c: the field is not Unique; two records could hold one key \(flow product\)$/m);
      assert.match(gaps.stdout, /^ {2}Opportunity: Change Data Capture is not enabled; select Opportunity in Setup > Change Data Capture \(flow order/m);
      assert.match(gaps.stdout, /^ {2}OpportunityLineItem\.Shop_Line_Id__c: the connected user cannot edit the field \(field-level security\) \(flow order\)$/m);
    } finally {
      admin.setField({ object: 'Contact', field: 'Shop_Customer_Id__c', externalId: true });
      admin.setField({ object: 'Product2', field: 'Sku__c', unique: true });
      admin.setChangeDataCapture({ object: 'Opportunity', enabled: true });
      admin.setField({ object: 'OpportunityLineItem', field: 'Shop_Line_Id__c', updateable: true });
    }
    assert.equal((await orgCheck()).code, 0, 'fixed: all clear again');
  });
});
