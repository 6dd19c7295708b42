/** The filter features print numbers exactly as everything else does (src/core/format.ts). */
export { formatBytes, formatCount } from '../format';
