import { describe, expect, it } from 'vitest';
import { createSessionTestModel } from 'session-supervisor/testing';
import { createNotesServer } from './server.js';

// Model-based tests of the notes server: every state and transition of a session and of a request,
// driven over the in-memory transport, with the slow `notes/export` held at the model's gate.
const model = createSessionTestModel(({ clock, gate }) => ({
  supervisor: createNotesServer({ clock, exportWork: (ctx) => gate.hold(ctx) }),
  slowMethod: 'notes/export',
}));

describe('notes server, model-based', () => {
  it('covers every state and transition of the session and request machines', () => {
    expect(model.coverage.missing).toEqual([]);
  });

  for (const path of model.paths) {
    it(path.description, () => path.run());
  }
});
