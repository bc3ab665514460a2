// PowerShell scripts are bundled as text (esbuild loader `.ps1: text`, see .projenrc.ts).
declare module '*.ps1' {
  const content: string;
  export default content;
}
