// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Security;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RelayCore.Hosting;
using RelayCore.Net;

namespace RelayCore.OAuth;

/// <summary>
/// An OAuth2 account kept in a file, so a scheduled task can send without a person and without a
/// secret on its command line: the provider kind, its settings and its secrets (JSON).
/// </summary>
/// <remarks>
/// On Unix the file is created mode 0600 and refused when the group or others can read it; on Windows
/// the secrets are encrypted with DPAPI for the current user, so only that user on that machine can use them.
/// </remarks>
public sealed class OAuthAccount
{
    private const string Format = "relay-oauth-account/1";
    private const string NoProtection = "none";
    private const string Dpapi = "dpapi-currentuser";

    // Binds DPAPI blobs to this use, so another program's protected data is not accepted as an account secret.
    private const string EntropyPrefix = "Relay OAuth account";
    private static readonly bool s_isWindows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

    /// <summary>Where the tokens come from; it says which settings below apply.</summary>
    public OAuthProviderKind Kind { get; set; }

    /// <summary>The Microsoft 365 app registration and mailbox (kind Microsoft365).</summary>
    public Microsoft365Options Microsoft365 { get; set; }

    /// <summary>The refresh-token account (kind RefreshToken).</summary>
    public RefreshTokenOptions RefreshToken { get; set; }

    /// <summary>The XOAUTH2 user of a static token (kind Static).</summary>
    public string StaticUserName { get; set; }

    /// <summary>The static token (kind Static).</summary>
    public SecureString StaticToken { get; set; }

    /// <summary>Reads an account file; for a refresh-token account, rotations are written back to the same file.</summary>
    /// <param name="path">The account file.</param>
    /// <returns>The account, with its secrets.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="OAuthAccountPermissionException">Others than the owner can read the file (Unix).</exception>
    /// <exception cref="InvalidDataException">The file is not an account file, or its secrets cannot be decrypted by this user.</exception>
    public static OAuthAccount Load(string path)
    {
        if (string.IsNullOrEmpty(path))
        {
            throw new ArgumentException("An account file path is required.", nameof(path));
        }
        if (!File.Exists(path))
        {
            throw new FileNotFoundException("The OAuth account file '" + path + "' does not exist; create it with the account's settings first.", path);
        }
        OwnerOnlyFile.CheckPermissions(path);
        try
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(path));
            OAuthAccount account = Read(document.RootElement, path);
            if (account.Kind == OAuthProviderKind.RefreshToken)
            {
                account.RefreshToken.Store = new AccountFileStore(account, path);
            }
            return account;
        }
        catch (JsonException error)
        {
            // Only the place: the parser's message quotes the text it stumbled on, which can be a secret (and so would the inner exception).
            throw new InvalidDataException("The OAuth account file '" + path + "' is not valid JSON at line " + (error.LineNumber + 1) + ", byte " + (error.BytePositionInLine + 1) + ": correct it or save the account again.");
        }
    }

    /// <summary>Writes the account to a file, atomically and owner-only (Unix mode 0600; DPAPI-encrypted secrets on Windows).</summary>
    /// <param name="path">The account file; replaced if it exists.</param>
    /// <exception cref="InvalidOperationException">The settings of <see cref="Kind"/> are missing.</exception>
    /// <exception cref="IOException">The file could not be written.</exception>
    public void Save(string path)
    {
        if (string.IsNullOrEmpty(path))
        {
            throw new ArgumentException("An account file path is required.", nameof(path));
        }
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            Write(writer);
        }
        OwnerOnlyFile.Write(path, buffer.ToArray());
    }

    /// <summary>Creates the provider this account describes.</summary>
    /// <param name="log">Where the provider reports what it did (refresh-token rotations); may be null.</param>
    /// <returns>A provider; dispose it if it is <see cref="IDisposable"/>.</returns>
    /// <exception cref="InvalidOperationException">The settings of <see cref="Kind"/> are missing.</exception>
    public IAccessTokenProvider CreateProvider(Action<RelayLogLevel, string> log)
    {
        switch (Kind)
        {
            case OAuthProviderKind.Microsoft365:
                return new Microsoft365TokenProvider(Microsoft365 ?? throw Missing());
            case OAuthProviderKind.RefreshToken:
                RefreshTokenOptions options = RefreshToken ?? throw Missing();
                // A copy, so that an account used by several runs logs to each run's own log, not the first one's.
                return new RefreshTokenProvider(new RefreshTokenOptions
                {
                    TokenEndpoint = options.TokenEndpoint,
                    ClientId = options.ClientId,
                    ClientSecret = options.ClientSecret,
                    RefreshToken = options.RefreshToken,
                    UserName = options.UserName,
                    Scope = options.Scope,
                    Store = options.Store,
                    HttpClient = options.HttpClient,
                    Log = options.Log ?? log,
                });
            default:
                return new StaticTokenProvider(StaticUserName, StaticToken ?? throw Missing());
        }
    }

    private InvalidOperationException Missing() => new InvalidOperationException("The " + Kind + " account has no settings.");

    private void Write(Utf8JsonWriter writer)
    {
        string protection = s_isWindows ? Dpapi : NoProtection;
        byte[] entropy = ProtectionEntropy();
        writer.WriteStartObject();
        writer.WriteString("format", Format);
        writer.WriteString("kind", Kind.ToString());
        writer.WriteString("protection", protection);
        switch (Kind)
        {
            case OAuthProviderKind.Microsoft365:
                Microsoft365Options microsoft = Microsoft365 ?? throw Missing();
                writer.WriteString("userName", microsoft.Mailbox);
                writer.WriteString("tenantId", microsoft.TenantId);
                writer.WriteString("clientId", microsoft.ClientId);
                writer.WriteString("cloud", microsoft.Cloud.ToString());
                writer.WriteString("authority", microsoft.Authority?.AbsoluteUri);
                writer.WriteString("scope", microsoft.Scope);
                writer.WriteString("certificatePath", microsoft.CertificatePath);
                writer.WriteString("certificateThumbprint", microsoft.CertificateThumbprint);
                writer.WriteStartObject("secrets");
                WriteSecret(writer, "clientSecret", microsoft.ClientSecret, entropy);
                WriteSecret(writer, "certificatePassword", microsoft.CertificatePassword, entropy);
                break;
            case OAuthProviderKind.RefreshToken:
                RefreshTokenOptions refresh = RefreshToken ?? throw Missing();
                writer.WriteString("userName", refresh.UserName);
                writer.WriteString("tokenEndpoint", refresh.TokenEndpoint?.AbsoluteUri);
                writer.WriteString("clientId", refresh.ClientId);
                writer.WriteString("scope", refresh.Scope);
                writer.WriteStartObject("secrets");
                WriteSecret(writer, "clientSecret", refresh.ClientSecret, entropy);
                WriteSecret(writer, "refreshToken", refresh.RefreshToken, entropy);
                break;
            default:
                writer.WriteString("userName", StaticUserName);
                writer.WriteStartObject("secrets");
                WriteSecret(writer, "token", StaticToken ?? throw Missing(), entropy);
                break;
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteSecret(Utf8JsonWriter writer, string name, SecureString secret, byte[] entropy)
    {
        string text = ServerCertificate.ToPlainText(secret);
        if (text == null)
        {
            return;
        }
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            byte[] encrypted = ProtectedData.Protect(Encoding.UTF8.GetBytes(text), entropy, DataProtectionScope.CurrentUser);
            writer.WriteString(name, Convert.ToBase64String(encrypted));
        }
        else
        {
            writer.WriteString(name, text);
        }
    }

    private static OAuthAccount Read(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object || Text(root, "format") != Format)
        {
            throw new InvalidDataException("'" + path + "' is not a Relay OAuth account file (format " + Format + ").");
        }
        string protection = Text(root, "protection");
        if (protection == Dpapi && !s_isWindows)
        {
            throw new InvalidDataException("The secrets in '" + path + "' are encrypted with Windows DPAPI and can only be read on the Windows machine and by the user that saved them.");
        }
        if (protection != Dpapi && protection != NoProtection)
        {
            throw new InvalidDataException("'" + path + "' names an unknown protection '" + protection + "'.");
        }
        if (!Enum.TryParse(Text(root, "kind"), ignoreCase: true, out OAuthProviderKind kind))
        {
            throw new InvalidDataException("'" + path + "' names an unknown account kind '" + Text(root, "kind") + "' (expected Microsoft365, RefreshToken or Static).");
        }
        if (protection == NoProtection && s_isWindows)
        {
            // Windows checks no file mode here: only DPAPI keeps these secrets to their user.
            throw new InvalidDataException("The secrets in '" + path + "' are not encrypted; on Windows an account file must be saved by New-RelayOAuthAccount on this machine, as the user that runs Relay.");
        }
        JsonElement secrets = root.TryGetProperty("secrets", out JsonElement found) && found.ValueKind == JsonValueKind.Object ? found : default;
        var account = new OAuthAccount { Kind = kind };
        switch (kind)
        {
            case OAuthProviderKind.Microsoft365:
                account.Microsoft365 = new Microsoft365Options
                {
                    Mailbox = Text(root, "userName"),
                    TenantId = Text(root, "tenantId"),
                    ClientId = Text(root, "clientId"),
                    Cloud = Enum.TryParse(Text(root, "cloud"), ignoreCase: true, out MicrosoftCloud cloud) ? cloud : MicrosoftCloud.Worldwide,
                    Authority = Url(root, "authority", path),
                    Scope = Text(root, "scope"),
                    CertificatePath = Text(root, "certificatePath"),
                    CertificateThumbprint = Text(root, "certificateThumbprint"),
                };
                break;
            case OAuthProviderKind.RefreshToken:
                account.RefreshToken = new RefreshTokenOptions
                {
                    UserName = Text(root, "userName"),
                    TokenEndpoint = Url(root, "tokenEndpoint", path) ?? RefreshTokenOptions.GoogleTokenEndpoint,
                    ClientId = Text(root, "clientId"),
                    Scope = Text(root, "scope"),
                };
                break;
            default:
                account.StaticUserName = Text(root, "userName");
                break;
        }
        byte[] entropy = account.ProtectionEntropy();
        SecureString Secret(string name) => ReadSecret(secrets, name, protection == Dpapi, entropy, path);
        switch (kind)
        {
            case OAuthProviderKind.Microsoft365:
                account.Microsoft365.ClientSecret = Secret("clientSecret");
                account.Microsoft365.CertificatePassword = Secret("certificatePassword");
                break;
            case OAuthProviderKind.RefreshToken:
                account.RefreshToken.ClientSecret = Secret("clientSecret");
                account.RefreshToken.RefreshToken = Secret("refreshToken");
                break;
            default:
                account.StaticToken = Secret("token");
                break;
        }
        return account;
    }

    /// <summary>
    /// The DPAPI entropy for this account's secrets: the settings that decide where the secrets are sent
    /// (kind, user, tenant, client, cloud, authority, token endpoint). DPAPI keeps the secrets to their user,
    /// but on Windows nothing stops another user who can write the file from changing its settings; with the
    /// settings in the entropy, a changed endpoint no longer decrypts, so the secrets cannot be redirected.
    /// </summary>
    internal byte[] ProtectionEntropy()
    {
        var text = new StringBuilder(EntropyPrefix).Append('\n').Append(Kind);
        void Add(string value) => text.Append('\n').Append(value ?? string.Empty);
        switch (Kind)
        {
            case OAuthProviderKind.Microsoft365:
                Microsoft365Options microsoft = Microsoft365 ?? throw Missing();
                Add(microsoft.Mailbox);
                Add(microsoft.TenantId);
                Add(microsoft.ClientId);
                Add(microsoft.Cloud.ToString());
                Add(microsoft.Authority?.AbsoluteUri);
                Add(microsoft.CertificatePath);
                Add(microsoft.CertificateThumbprint);
                break;
            case OAuthProviderKind.RefreshToken:
                RefreshTokenOptions refresh = RefreshToken ?? throw Missing();
                Add(refresh.UserName);
                Add((refresh.TokenEndpoint ?? RefreshTokenOptions.GoogleTokenEndpoint).AbsoluteUri);
                Add(refresh.ClientId);
                break;
            default:
                Add(StaticUserName);
                break;
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static SecureString ReadSecret(JsonElement secrets, string name, bool isProtected, byte[] entropy, string path)
    {
        string text = secrets.ValueKind == JsonValueKind.Object ? Text(secrets, name) : null;
        if (text == null)
        {
            return null;
        }
        if (isProtected && RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            try
            {
                text = Encoding.UTF8.GetString(ProtectedData.Unprotect(Convert.FromBase64String(text), entropy, DataProtectionScope.CurrentUser));
            }
            catch (Exception error) when (error is CryptographicException || error is FormatException)
            {
                throw new InvalidDataException("The secret '" + name + "' in '" + path + "' cannot be decrypted: DPAPI secrets can only be read by the user that saved them, on the same machine, and only while the account's settings (endpoint, authority, tenant, client, user) are as saved. Save the account again as this user.", error);
            }
        }
        return Secure(text);
    }

    internal static SecureString Secure(string text)
    {
        var secure = new SecureString();
        foreach (char c in text)
        {
            secure.AppendChar(c);
        }
        secure.MakeReadOnly();
        return secure;
    }

    private static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static Uri Url(JsonElement root, string name, string path)
    {
        string text = Text(root, name);
        if (text == null)
        {
            return null;
        }
        return Uri.TryCreate(text, UriKind.Absolute, out Uri url) ? url : throw new InvalidDataException("'" + name + "' in '" + path + "' is not an absolute URL.");
    }

    /// <summary>Persists rotated refresh tokens into the account file the account came from.</summary>
    private sealed class AccountFileStore : IRefreshTokenStore
    {
        private readonly OAuthAccount _account;
        private readonly string _path;
        private readonly object _gate = new object();

        internal AccountFileStore(OAuthAccount account, string path)
        {
            _account = account;
            _path = path;
        }

        public void SaveRefreshToken(string refreshToken)
        {
            SecureString secure = Secure(refreshToken);
            lock (_gate)
            {
                _account.RefreshToken.RefreshToken = secure;
                // Into the file as it is now, so settings saved meanwhile (a new client secret) are not undone; the
                // account as loaded when the file is gone or holds another account: a refresh token belongs to its
                // client and endpoint, and must never be written beside an endpoint someone else put there.
                OAuthAccount current = _account;
                try
                {
                    OAuthAccount stored = Load(_path);
                    if (stored.Kind == OAuthProviderKind.RefreshToken && IsSameClient(stored.RefreshToken, _account.RefreshToken))
                    {
                        stored.RefreshToken.RefreshToken = secure;
                        current = stored;
                    }
                }
                catch (Exception error) when (error is IOException || error is UnauthorizedAccessException || error is InvalidDataException)
                {
                    // Unreadable now (removed, made readable by others, not an account): the new token must still be kept.
                }
                current.Save(_path);
            }
        }

        private static bool IsSameClient(RefreshTokenOptions stored, RefreshTokenOptions loaded) =>
            stored.TokenEndpoint == loaded.TokenEndpoint && string.Equals(stored.ClientId, loaded.ClientId, StringComparison.Ordinal);
    }
}
