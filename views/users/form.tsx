/**
 * @module views/users/form
 * Add / edit a user (SPEC U2): identity, password with confirmation, photo, groups, and
 * the entity rights (Public, Super-administrator, Recursive, Statistics, granted entities).
 */
import type { FieldErrors } from "../../src/errors.ts";
import type { T } from "../../src/i18n/index.ts";
import { Check, CsrfField, FieldError, Hint, Select, TextField, type Option } from "../shell/form.tsx";
import { Alert, when } from "../shell/layout.tsx";

export interface UserFormValues {
  login: string;
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  mobile: string;
  primaryGroupId: string;
  secondaryGroupIds: string[];
  entityIds: string[];
  isSuper: boolean;
  isPublic: boolean;
  isRecursive: boolean;
  hasStatistics: boolean;
}

export interface UserFormProps {
  t: T;
  csrf: string;
  id: number | null;
  values: UserFormValues;
  errors?: FieldErrors;
  groups: Option[];
  entities: Option[];
  hasPhoto: boolean;
  canGrantSuper: boolean;
}

export function UserForm(props: UserFormProps) {
  const { t, values: v, errors } = props;
  const action = props.id ? `/users/${props.id}` : "/users";
  const title = props.id ? t("users.edit", { login: v.login }) : t("users.add");
  return (
    <form class="card form wide" method="post" action={action} enctype="multipart/form-data">
      <h1 safe>{title}</h1>
      {when(errors, () => <Alert kind="error" text={t("error.invalid")} />)}
      <CsrfField token={props.csrf} />
      <fieldset>
        <legend safe>{t("users.section.identity")}</legend>
        <div class="grid-2">
          <TextField t={t} name="login" label={t("users.login")} value={v.login} hint={t("users.loginHint")} required maxlength={64} autocomplete="off" errors={errors} />
          <TextField t={t} name="email" type="email" label={t("users.email")} value={v.email} maxlength={320} errors={errors} />
          <TextField t={t} name="password" type="password" label={t("users.password")} required={!props.id} autocomplete="new-password" hint={`${t("password.rule")}${props.id ? ` ${t("users.passwordKeep")}` : ""}`} errors={errors} />
          <TextField t={t} name="confirm" type="password" label={t("users.confirm")} required={!props.id} autocomplete="new-password" errors={errors} />
          <TextField t={t} name="lastName" label={t("users.lastName")} value={v.lastName} maxlength={100} errors={errors} />
          <TextField t={t} name="firstName" label={t("users.firstName")} value={v.firstName} maxlength={100} errors={errors} />
          <TextField t={t} name="phone" type="tel" label={t("users.phone")} value={v.phone} maxlength={32} errors={errors} />
          <TextField t={t} name="mobile" type="tel" label={t("users.mobile")} value={v.mobile} maxlength={32} errors={errors} />
        </div>
        <div class="field">
          <label for="photo" safe>
            {t("users.photo")}
          </label>
          {when(props.hasPhoto && props.id, () => <img class="photo" src={`/users/${props.id}/photo`} alt="" width="64" height="64" />)}
          <input id="photo" name="photo" type="file" accept="image/png,image/jpeg,image/gif,image/webp" aria-describedby="photo-hint" />
          <Hint name="photo" text={t("users.photoHint")} />
          <FieldError t={t} name="photo" errors={errors} />
          {when(props.hasPhoto, () => <Check t={t} name="removePhoto" label={t("users.removePhoto")} checked={false} />)}
        </div>
      </fieldset>
      <fieldset>
        <legend safe>{t("users.section.groups")}</legend>
        <div class="grid-2">
          <Select t={t} name="primaryGroupId" label={t("users.primaryGroup")} options={[{ value: "", label: t("users.noGroup") }, ...props.groups]} selected={[v.primaryGroupId]} errors={errors} />
          <Select t={t} name="secondaryGroupIds" label={t("users.secondaryGroups")} options={props.groups} selected={v.secondaryGroupIds} multiple size={Math.min(6, Math.max(3, props.groups.length))} errors={errors} />
        </div>
      </fieldset>
      <fieldset>
        <legend safe>{t("users.section.rights")}</legend>
        <div class="grid-2">
          <div>
            <Check t={t} name="isPublic" label={t("users.isPublic")} hint={t("users.isPublicHint")} checked={v.isPublic} errors={errors} />
            <Check t={t} name="isSuper" label={t("users.isSuper")} hint={t("users.isSuperHint")} checked={v.isSuper} disabled={!props.canGrantSuper} errors={errors} />
            <Check t={t} name="isRecursive" label={t("users.isRecursive")} hint={t("users.isRecursiveHint")} checked={v.isRecursive} errors={errors} />
            <Check t={t} name="hasStatistics" label={t("users.hasStatistics")} hint={t("users.hasStatisticsHint")} checked={v.hasStatistics} errors={errors} />
          </div>
          <Select t={t} name="entityIds" label={t("users.entities")} options={props.entities} selected={v.entityIds} multiple size={Math.min(8, Math.max(3, props.entities.length))} errors={errors} />
        </div>
      </fieldset>
      <div class="form-actions">
        <button type="submit" class="primary" safe>
          {t("users.save")}
        </button>
        <a href="/users" safe>
          {t("users.cancel")}
        </a>
      </div>
    </form>
  );
}
