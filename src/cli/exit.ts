// The exit codes of every command: 0 success; 1 failure (an error, a failed or skipped step, a
// declined approval); 2 from plan --detailed-exitcode, when the plan has changes.

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_CHANGES = 2;
