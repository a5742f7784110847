/** A step of a backup or restore that failed; `step` names it for the log and the operator. */
export class BackupStepError extends Error {
  override readonly name = 'BackupStepError';
  constructor(
    readonly step: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${step}: ${message}`, options);
  }
}

/** Another backup or restore holds the lock on the backup directory. */
export class BackupBusyError extends Error {
  override readonly name = 'BackupBusyError';
  constructor(readonly holder: string) {
    super(`another backup or restore is running (${holder})`);
  }
}

/** The backup asked for does not exist or is not complete. */
export class BackupNotFoundError extends Error {
  override readonly name = 'BackupNotFoundError';
}

/** A restore that would overwrite data without being told to. */
export class RestoreRefusedError extends Error {
  override readonly name = 'RestoreRefusedError';
}
