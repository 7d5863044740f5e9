// Instance user-data: Ignition 3 JSON for Flatcar, cloud-config for old
// Container Linux. Pure and deterministic: the text is part of the template hash.
export { readBootSettingsFromUserData, readUserDataFile } from "./readUserData.js";
