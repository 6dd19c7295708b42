export declare const CRONTAB_LOCK: string;
export declare function withCrontabLock<T>(body: () => Promise<T>, timeoutMs?: number): Promise<T>;
