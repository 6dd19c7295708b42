export function startServer(): void { /* filled in below */ }
