import { LIVE_COPY_WARNING, type SnapshotProvider } from './provider';

export const noneProvider: SnapshotProvider = {
  method: 'none',
  async availability() { return { available: true, reason: 'a live copy is always possible' }; },
  async create(source) {
    return { method: 'none', id: null, readPath: source, excludes: [], warning: LIVE_COPY_WARNING, journal: null };
  },
  async release() { /* nothing was created */ },
};
