//! VRRP advert receive checks and building (in progress).
