/** livedash's mark: a pulse line on the accent colour. */
export function BrandMark() {
  return (
    <span className="brand-mark" aria-hidden="true">
      <svg width="20" height="20" viewBox="0 0 32 32" aria-hidden="true">
        <path
          d="M5 18h5l3-8 4.5 13 3-8H27"
          fill="none"
          stroke="#fff"
          strokeWidth="3"
          strokeLinecap="round"
          strokeLinejoin="round"
        />
      </svg>
    </span>
  );
}
