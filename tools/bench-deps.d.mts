export declare const benchDepsDir: string;
export declare const NODE_LLAMA_CPP_VERSION: string;
export declare function nodeLlamaCppPlatformPackage(platform?: string, arch?: string): string;
export declare function ensureNodeLlamaCpp(): string;
