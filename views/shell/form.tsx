/**
 * @module views/shell/form
 * Form pieces shared by every feature: a labelled field with its hint and its error
 * (wired with aria-describedby / aria-invalid), checkboxes with a hint, and selects.
 */
import type { FieldErrors } from "../../src/errors.ts";
import type { T } from "../../src/i18n/index.ts";

export interface FieldProps {
  t: T;
  name: string;
  label: string;
  errors?: FieldErrors;
  hint?: string;
  value?: string;
  type?: string;
  required?: boolean;
  autocomplete?: string;
  maxlength?: number;
  pattern?: string;
}

const describedBy = (name: string, hint?: string, error?: string) =>
  [hint ? `${name}-hint` : "", error ? `${name}-error` : ""].filter(Boolean).join(" ") || undefined;

export function FieldError(props: { t: T; name: string; errors?: FieldErrors }) {
  const key = props.errors?.[props.name];
  if (!key) return "";
  return (
    <p class="field-error" id={`${props.name}-error`} safe>
      {props.t(key)}
    </p>
  );
}

export function Hint(props: { name: string; text?: string }) {
  if (!props.text) return "";
  return (
    <p class="hint" id={`${props.name}-hint`} safe>
      {props.text}
    </p>
  );
}

export function TextField(props: FieldProps) {
  const error = props.errors?.[props.name];
  return (
    <div class="field">
      <label for={props.name} safe>
        {props.label}
      </label>
      <input
        id={props.name}
        name={props.name}
        type={props.type ?? "text"}
        value={props.value ?? ""}
        required={props.required}
        autocomplete={props.autocomplete}
        maxlength={props.maxlength ? String(props.maxlength) : undefined}
        pattern={props.pattern}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={describedBy(props.name, props.hint, error)}
      />
      <Hint name={props.name} text={props.hint} />
      <FieldError t={props.t} name={props.name} errors={props.errors} />
    </div>
  );
}

export function Check(props: { t: T; name: string; label: string; hint?: string; checked: boolean; disabled?: boolean; errors?: FieldErrors }) {
  return (
    <div class="check">
      <input type="checkbox" id={props.name} name={props.name} checked={props.checked} disabled={props.disabled} aria-describedby={describedBy(props.name, props.hint, props.errors?.[props.name])} />
      <label for={props.name} safe>
        {props.label}
      </label>
      <Hint name={props.name} text={props.hint} />
      <FieldError t={props.t} name={props.name} errors={props.errors} />
    </div>
  );
}

export interface Option {
  value: string;
  label: string;
}

export function Select(props: { t: T; name: string; label: string; options: Option[]; selected: string[]; multiple?: boolean; hint?: string; errors?: FieldErrors; size?: number }) {
  const error = props.errors?.[props.name];
  return (
    <div class="field">
      <label for={props.name} safe>
        {props.label}
      </label>
      <select id={props.name} name={props.name} multiple={props.multiple ? "multiple" : undefined} size={props.size ? String(props.size) : undefined} aria-invalid={error ? "true" : undefined} aria-describedby={describedBy(props.name, props.hint, error)}>
        {props.options.map((o) => (
          <option value={o.value} selected={props.selected.includes(o.value)} safe>
            {o.label}
          </option>
        ))}
      </select>
      <Hint name={props.name} text={props.hint} />
      <FieldError t={props.t} name={props.name} errors={props.errors} />
    </div>
  );
}

export function CsrfField(props: { token: string }) {
  return <input type="hidden" name="_csrf" value={props.token} />;
}
