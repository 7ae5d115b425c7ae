// Level and node paths: "" is the host, "c1/c2" the LXD inside c2 inside c1.

export const levelLabel = (path: string): string => (path === '' ? 'host' : path);

export const joinPath = (level: string, name: string): string => (level === '' ? name : `${level}/${name}`);

/** The level a node lives in: "c1" for "c1/c2", "" (the host) for "c1". */
export const parentPath = (path: string): string => path.split('/').slice(0, -1).join('/');
