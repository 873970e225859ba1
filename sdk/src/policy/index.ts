export * from "./access";
export * from "./ip";
export * from "./referer";
export * from "./scope";
