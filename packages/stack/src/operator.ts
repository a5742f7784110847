// The operator actions live in @ibstack/operator, shared by this CLI and dashboard-api (one control path).
export * from '@ibstack/operator';
