import assert from 'node:assert/strict';
import { test } from 'node:test';
import { channelsReady } from '../../src/run/salesforce-stages.ts';
import type { SalesforceSourceStatus } from '../../src/salesforce/source/index.ts';

const channel = (object: string, state: SalesforceSourceStatus['channels'][number]['state']) => ({
  object, channel: `/data/${object}ChangeEvent`, state, checkpoint: null, lastActivityAt: null, events: 0, messages: 0, restCalls: 0, resubscribes: 0, lastError: null, caughtUp: true,
});
const status = (running: boolean, ...channels: ReturnType<typeof channel>[]): SalesforceSourceStatus => ({ mode: 'pubsub', running, channels, alerts: [] });

test('the Salesforce source is ready while it runs and every channel is subscribed or subscribing; a channel that cannot subscribe makes it unready', () => {
  assert.equal(channelsReady(status(true, channel('Account', 'live'), channel('Contact', 'subscribing'))), true);
  assert.equal(channelsReady(status(true, channel('Account', 'live'), channel('Opportunity', 'backoff'))), false, 'a channel in backoff (CDC off, access refused)');
  assert.equal(channelsReady(status(true, channel('Account', 'stopped'))), false);
  assert.equal(channelsReady(status(false, channel('Account', 'live'))), false, 'not running');
});
