/** The extension's command ids, in one place so that any host module can name a command without importing its handler. */
export const ANALYSE_POISONING = 'poisonLens.analysePoisoning';
export const OPEN_DASHBOARD = 'poisonLens.openDashboard';
