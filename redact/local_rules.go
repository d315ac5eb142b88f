package redact

// localRules are convlog's own rules, for secrets gitleaks' configuration
// has no rule for, written the way its rules are. Names before a value
// follow gitleaks' form (`[\w.-]{0,50}?name … = value`), which the engine
// tries from the name on.
var localRules = []ruleSpec{
	// Google OAuth client secrets, in client_secret.json and env files.
	{
		id:       "google-oauth-client-secret",
		kind:     "google",
		regex:    `\b(GOCSPX-[\w-]{28})(?:[^\w-]|$)`,
		keywords: []string{"gocspx-"},
	},
	// Google OAuth access tokens, as gcloud auth print-access-token prints
	// them.
	{
		id:       "google-oauth-access-token",
		kind:     "google",
		regex:    `\b(ya29\.[\w-]{20,1000})`,
		keywords: []string{"ya29."},
	},
	// Google OAuth refresh tokens.
	{
		id:       "google-oauth-refresh-token",
		kind:     "google",
		regex:    `\b(1//0[\w-]{40,1000})`,
		keywords: []string{"1//0"},
	},
	// Azure storage account keys (88 bytes of base64) and Service Bus
	// shared access keys (44) in connection strings.
	{
		id:       "azure-connection-string-key",
		kind:     "azure",
		regex:    `(?i)\b(?:AccountKey|SharedAccessKey)=([a-z0-9+/]{42,86}={1,2})`,
		keywords: []string{"accountkey=", "sharedaccesskey="},
	},
	// An Azure storage account key assigned to a name with "azure" in it
	// (AZURE_STORAGE_KEY=…).
	{
		id:       "azure-storage-key",
		kind:     "azure",
		regex:    `(?i)[\w.-]{0,50}?(?:azure)(?:[ \t\w.-]{0,30})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=]{0,5}([a-z0-9+/]{86}==)(?:[\x60'"\s;]|\\[nr]|$)`,
		keywords: []string{"azure"},
	},
	// AWS temporary credentials: the session token assigned to
	// aws_session_token, AWS_SECURITY_TOKEN, "SessionToken" …
	{
		id:       "aws-session-token",
		kind:     "aws",
		regex:    `(?i)[\w.-]{0,50}?(?:session[_-]?token|security[_-]?token)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=]{0,5}([a-z0-9+/]{100,}={0,2})(?:[^a-z0-9+/=]|$)`,
		keywords: []string{"session_token", "session-token", "sessiontoken", "security_token", "security-token", "securitytoken"},
	},
	// npm credentials in .npmrc, scoped to a registry
	// (//host/:_authToken=…): legacy tokens are UUIDs, which no prefix
	// tells apart.
	{
		id:       "npm-npmrc-auth",
		kind:     "npm",
		regex:    `:_(?:authToken|auth|password)[ \t]*=[ \t]*["']?([^\s"'\\)\]},;]{8,})`,
		keywords: []string{":_auth", ":_password"},
		allow:    []allowSpec{placeholders},
	},
	// The same on a line of its own.
	{
		id:       "npm-npmrc-auth-line",
		kind:     "npm",
		regex:    `(?m)^_auth(?:Token)?[ \t]*=[ \t]*["']?([^\s"'\\)\]},;]{8,})`,
		keywords: []string{"_auth"},
		allow:    []allowSpec{placeholders},
	},
	// A legacy npm token (a UUID) assigned to NPM_TOKEN or the like.
	{
		id:       "npm-legacy-token",
		kind:     "npm",
		regex:    `(?i)[\w.-]{0,50}?(?:npm[_-]?(?:auth[_-]?)?token)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=]{0,5}([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:[\x60'"\s;]|\\[nr]|$)`,
		keywords: []string{"npm"},
	},
	// The private part of a PuTTY key file (.ppk): the base64 lines after
	// "Private-Lines: n", up to the Private-MAC line.
	{
		id:       "putty-private-key",
		kind:     "private-key",
		regex:    `Private-Lines:[ \t]*\d+` + newline + `((?:[A-Za-z0-9+/=]{1,64}` + newline + `)*?[A-Za-z0-9+/=]{1,64})(?:` + newline + `Private-|\z|[^A-Za-z0-9+/=\r\n\\])`,
		keywords: []string{"private-lines"},
	},
	// The password in a JDBC URL's parameters or an ADO.NET connection
	// string: ?password=…, ;Password=…; ('&' may be written \u0026 in
	// JSON).
	{
		id:       "connection-string-password",
		kind:     "password",
		regex:    `(?i)(?:[?&;]|\\u0026)(?:password|pwd)=([^&;\s"'\\]{3,})`,
		keywords: []string{"password=", "pwd="},
		allow:    []allowSpec{placeholders},
	},
	// Discord bot tokens: user id, timestamp and HMAC, base64 and dotted,
	// assigned to a name with "discord" in it …
	{
		id:       "discord-bot-token",
		kind:     "discord",
		regex:    `(?i)[\w.-]{0,50}?(?:discord)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=]{0,5}([MNO][a-z0-9_-]{23,27}\.[a-z0-9_-]{6,7}\.[a-z0-9_-]{27,40})(?:[\x60'"\s;]|\\[nr]|$)`,
		keywords: []string{"discord"},
	},
	// … or sent as "Authorization: Bot <token>".
	{
		id:       "discord-bot-authorization",
		kind:     "discord",
		regex:    `\bBot ([MNO][\w-]{23,27}\.[\w-]{6,7}\.[\w-]{27,40})\b`,
		keywords: []string{"bot "},
	},
	// Twilio auth tokens: 32 hex digits assigned to a name with "twilio" in
	// it (gitleaks has Twilio's API keys, SK…).
	{
		id:       "twilio-auth-token",
		kind:     "twilio",
		regex:    `(?i)[\w.-]{0,50}?(?:twilio)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=]{0,5}([a-f0-9]{32})(?:[\x60'"\s;]|\\[nr]|$)`,
		entropy:  3,
		keywords: []string{"twilio"},
	},
	// Passwords written into code, configuration and env files: quoted
	// literals ("password": "…", password = '…') and values of upper-case
	// env names (DB_PASSWORD=…). A value that stands for a password (a
	// template's variable, "changeme", letters only as in 'SetPassword')
	// is left.
	{
		id:       "password-literal",
		kind:     "password",
		regex:    `(?i)[\w.-]{0,50}?(?:passw(?:or)?d|passphrase|pwd)(?:[\w.-]{0,20})[ \t'"]{0,4}(?:=|:|:=|=>)[ \t]{0,8}(?:"([^"\s\\]{6,128})"|'([^'\s\\]{6,128})')`,
		keywords: []string{"passwd", "password", "passphrase", "pwd"},
		allow:    []allowSpec{placeholders, notPasswords},
	},
	{
		id:       "password-env",
		kind:     "password",
		regex:    `[A-Z0-9_]{0,50}?(?:PASSW(?:OR)?D|PASSPHRASE|PWD)[A-Z0-9_]{0,20}=([^\s"'\\]{5,127}[^\s"'\\)\]}])(?:[\s"')\]}]|\\[nrt]|$)`,
		keywords: []string{"passwd", "password", "passphrase", "pwd"},
		allow:    []allowSpec{placeholders, notPasswords},
	},
}

// newline is a line's end in text, in a JSON string (\n) and in JSON
// printed inside a JSON string (\\n).
const newline = `(?:\r?\n|(?:\\{1,2}r)?\\{1,2}n)`

// placeholders are values that stand for a secret without being one: a
// template's variable ($PW, ${PW}, %s, {pw}, <pw>) or a mask (****).
var placeholders = allowSpec{regexes: []string{`^[$%{<]`, `^\*+$`}}

// notPasswords are values that name a password rather than being one:
// letters alone (a constant's value, 'SetPassword'), or holding "passw".
var notPasswords = allowSpec{regexes: []string{`^[A-Za-z_.-]+$`, `(?i)passw|changeme`}}
