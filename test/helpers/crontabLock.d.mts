export declare function withCrontabLock<T>(body: () => Promise<T>, timeoutMs?: number): Promise<T>;
