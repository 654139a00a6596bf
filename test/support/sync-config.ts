import type { ShopforceConfig } from '../../src/config/schema.ts';
import { testPipelineConfig } from './pipeline.ts';
import { sandboxEnv } from './pipeline-process.ts';
import type { SyncFixture } from './sync-fixture.ts';

/** The test pipeline's config against a fixture's emulator, for a shop of its own (its rows only), with a short sink linger. */
export function fixtureConfig(f: SyncFixture, shopId: string, overrides: (c: ShopforceConfig) => void = () => {}): ShopforceConfig {
  return testPipelineConfig(f.stack, sandboxEnv(f.t), (c) => {
    c.shopId = shopId;
    c.salesforce.apiVersion = '60.0';
    c.sink.lingerMs = 100;
    overrides(c);
  });
}
