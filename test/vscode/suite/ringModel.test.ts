// Runs INSIDE a real VS Code: the ring model against an engine whose answers arrive in an order
// the test chooses, so the race between a space measurement and a relisting is played out exactly.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { RingModel } from '../../../src/ui/ringModel';
import { readSettings } from '../../../src/ui/settings';
import type { EngineClient } from '../../../src/ui/engineClient/engineClient';
import type { RingListing, SlotSpace } from '../../../src/rpc/protocol';

interface Deferred<T> { promise: Promise<T>; resolve(value: T): void }
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

describe('The ring model keeps what it measured', function () {
  it('space figures that land while the ring is listed again (unchanged) stay on the rows', async function () {
    // The model lists only when a target is set; the earlier files have set one, else set one here.
    const c = vscode.workspace.getConfiguration('shadowSlots');
    const setHere = readSettings().target === '';
    if (setHere) await c.update('target', '/ring-of-the-model-test', vscode.ConfigurationTarget.Workspace);
    const target = readSettings().target;
    try {
      const slot = { id: 's0', number: 0 };
      const listing = { target, slots: [slot], busy: false, notes: [] } as unknown as RingListing;
      const lists: Deferred<RingListing>[] = [];
      const spaces: Deferred<SlotSpace[]>[] = [];
      const engine = {
        list: () => { const d = deferred<RingListing>(); lists.push(d); return d.promise; },
        slotSpace: () => { const d = deferred<SlotSpace[]>(); spaces.push(d); return d.promise; },
      } as unknown as EngineClient;
      const quiet = { error() {}, warn() {} } as unknown as vscode.LogOutputChannel;
      const model = new RingModel(engine, quiet);
      try {
        const first = model.refresh();
        lists[0]!.resolve(listing);
        await first;
        assert.equal(spaces.length, 1, 'the first listing asks for the space of its slots');
        const second = model.refresh();
        await new Promise((r) => setTimeout(r, 0));
        assert.equal(lists.length, 2, 'the second refresh is listing');
        // The figures arrive while the second listing is still out ...
        spaces[0]!.resolve([{ id: 's0', exclusiveBytes: 4096, sharedBytes: 0, method: 'test', note: null }]);
        await new Promise((r) => setTimeout(r, 0));
        assert.equal(model.listing?.slots[0]?.space?.exclusiveBytes, 4096, 'the figures reach the rows');
        // ... and the listing comes back the same: nothing to redraw, nothing to forget.
        lists[1]!.resolve(structuredClone(listing));
        await second;
        assert.equal(model.listing?.slots[0]?.space?.exclusiveBytes, 4096, 'an unchanged relisting keeps the figures measured meanwhile');
        assert.equal(spaces.length, 1, 'and does not measure again');
      } finally {
        model.dispose();
        // This model set the view's state from its fake listing: the extension's own sets it back.
        await vscode.commands.executeCommand('shadowSlots.refresh');
      }
    } finally {
      if (setHere) await c.update('target', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
});
