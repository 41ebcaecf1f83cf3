/* A stand-in bcryptprimitives.dll for running Rust Windows binaries under
 * Wine 8 (Debian 12's), which lacks that DLL: Rust's std (1.78 and later)
 * imports ProcessPrng from it for HashMap seeds and random numbers.
 * ProcessPrng(PBYTE pbData, SIZE_T cbData) fills the buffer and returns
 * TRUE (Microsoft Learn, "ProcessPrng function"); this one forwards to
 * Wine's BCryptGenRandom with the system-preferred RNG. Test use only: it goes
 * next to the .exe in a throwaway copy, never into a package.
 *
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll \
 *       .ci/wine-processprng.c -lbcrypt
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
